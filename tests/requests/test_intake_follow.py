"""Following an application with its reference and a one-time code: the status and the
clock, answering a staff question, adding a document, downloading the released answer; and
an unknown reference answered exactly like a known one."""

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django_tenants.utils import tenant_context

from accounts.models import User
from requests.crypto import open_text, seal_file, seal_text
from requests.models import (
    AnswerLetter,
    Application,
    ApplicationDocument,
    ApplicationMessage,
    JobStatus,
    Outcome,
)
from requests.services import days_left
from tests.requests.helpers import register_subject, tckn_make
from tests.requests.intake_support import (
    EXE,
    PDF,
    code_in,
    form_data,
    page_text,
    sent_after_commit,
    submit,
    throttle_reset,
    upload,
    visitor,
)

pytestmark = pytest.mark.django_db

KNOWN = tckn_make(9201)
HELD_EMAIL = "takip.kisi@ornek.com.tr"


@pytest.fixture(autouse=True)
def _fresh_limits(settings):
    settings.INTAKE_CODE_REQUEST_FLOOR_MS = 0  # the floor has a test of its own (follow)
    throttle_reset()
    yield
    throttle_reset()


@pytest.fixture
def filed(acme) -> Application:
    """An application of a person the register knows, verified with the e-mailed code."""
    with tenant_context(acme):
        register_subject(tckn=KNOWN, email=HELD_EMAIL)
    client = visitor(acme, address="203.0.113.50")
    submit(client, form_data(tckn=KNOWN, email="yazilan@ornek.com.tr"))
    sent_after_commit(client, reverse("intake:verify"), {"action": "send", "medium": "email"})
    client.post(reverse("intake:verify"), {"action": "check", "code": code_in(mail.outbox[-1])})
    mail.outbox.clear()
    with tenant_context(acme):
        application = Application.objects.get()
        assert application.identity_verified_at is not None
        return application


def _ask_code(client, reference: str, medium: str = "email"):
    return sent_after_commit(
        client, reverse("intake:follow"), {"reference": reference, "medium": medium}
    )


def _enter(client, code: str):
    return client.post(reverse("intake:follow_code"), {"code": code})


def _opened(tenant, reference: str):
    client = visitor(tenant)
    assert _ask_code(client, reference).status_code == 302
    assert [m.to for m in mail.outbox] == [[HELD_EMAIL]]
    response = _enter(client, code_in(mail.outbox[-1]))
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:follow_status", args=[reference])
    return client


def test_the_follow_page_shows_status_clock_and_staff_questions(acme, filed):
    with tenant_context(acme):
        question = ApplicationMessage(
            application=filed, direction=ApplicationMessage.Direction.TO_APPLICANT
        )
        seal_text(question, "text_enc", "Hangi şubemizle görüştünüz?")
        question.save()
        left = days_left(filed)
    client = _opened(acme, filed.reference)
    page = client.get(reverse("intake:follow_status", args=[filed.reference]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "İşlemde" in html
    assert f"{left} gün kaldı" in html
    assert "bu süreyi durdurmaz" in html  # questions do not stop the clock
    assert "Hangi şubemizle görüştünüz?" in html
    assert "(a) Kişisel verilerimin işlenip işlenmediğini öğrenmek" in html


def test_the_applicant_answers_a_question_sealed_and_logged(acme, filed):
    client = _opened(acme, filed.reference)
    url = reverse("intake:follow_reply", args=[filed.reference])
    assert client.post(url, {"text": ""}).status_code == 400
    response = client.post(url, {"text": "Kadıköy şubesi."})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Yanıtınız gönderildi." in page
    assert "Kadıköy şubesi." in page
    with tenant_context(acme):
        reply = ApplicationMessage.objects.get()
        assert reply.direction == ApplicationMessage.Direction.FROM_APPLICANT
        assert open_text(reply, "text_enc") == "Kadıköy şubesi."
        assert b"Kad" not in bytes(reply.text_enc)


def test_the_applicant_adds_a_document_and_a_program_is_refused(acme, filed):
    client = _opened(acme, filed.reference)
    url = reverse("intake:follow_document", args=[filed.reference])
    refused = client.post(url, {"document": upload("dekont.pdf", EXE)})
    assert refused.status_code == 400
    assert "“dekont.pdf” bir PDF, JPEG veya PNG dosyası değil." in refused.content.decode()
    with tenant_context(acme):
        assert not ApplicationDocument.objects.exists()
    assert client.post(url, {"document": upload("dekont.pdf", PDF)}).status_code == 302
    with tenant_context(acme):
        document = ApplicationDocument.objects.get()
        assert document.kind == ApplicationDocument.Kind.APPLICANT_REPLY


def test_the_released_answer_is_downloaded_once_per_code(acme, filed):
    with tenant_context(acme):
        letter = AnswerLetter(
            application=filed,
            outcome=Outcome.ACCEPTED,
            status=JobStatus.RELEASED,
            created_by=User.objects.get(username="owner"),
        )
        seal_text(letter, "body_enc", "Yanıt")
        letter.path = default_storage.save(
            "acme/letters/test.bin", ContentFile(seal_file(letter, PDF))
        )
        letter.save()
    client = _opened(acme, filed.reference)
    html = client.get(reverse("intake:follow_status", args=[filed.reference])).content.decode()
    url = reverse("intake:download", args=[filed.reference, f"letter-{letter.pk}"])
    assert f'action="{url}"' in html
    first = client.post(url)
    assert first.status_code == 200
    assert first.content == PDF
    assert client.post(url).status_code == 410


def test_the_status_page_needs_a_follow_code(acme, filed):
    client = visitor(acme)
    response = client.get(reverse("intake:follow_status", args=[filed.reference]))
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:follow")
    reply = client.post(reverse("intake:follow_reply", args=[filed.reference]), {"text": "x"})
    assert reply.status_code == 302
    with tenant_context(acme):
        assert not ApplicationMessage.objects.exists()


def test_known_and_unknown_references_get_the_same_pages(acme, filed):
    pages = []
    for reference, address in ((filed.reference, "203.0.113.61"), ("BSV-2026-999999", "203.0.113.62")):  # fmt: skip
        client = visitor(acme, address=address)
        asked = _ask_code(client, reference)
        code_page = client.get(reverse("intake:follow_code"))
        tries = [_enter(client, "000000" if n % 2 else "999999") for n in range(6)]
        pages.append(
            [(asked.status_code, asked["Location"]), (code_page.status_code, page_text(code_page))]
            + [(t.status_code, page_text(t)) for t in tries]
        )
    assert pages[0] == pages[1]
    assert "Bu kod artık kullanılamaz" in pages[1][-1][1]


def test_a_follow_code_of_an_unverified_application_verifies_it_by_the_same_rule(acme):
    with tenant_context(acme):
        register_subject(tckn=KNOWN, email=HELD_EMAIL)
    submit(visitor(acme), form_data(tckn=KNOWN, email="yazilan@ornek.com.tr"))
    with tenant_context(acme):
        reference = Application.objects.get().reference
    client = _opened(acme, reference)  # the code went to the register's address
    assert client.get(reverse("intake:follow_status", args=[reference])).status_code == 200
    with tenant_context(acme):
        assert Application.objects.get().identity_verified_at is not None


def test_follow_requests_are_throttled_for_any_reference(acme, filed):
    client = visitor(acme)
    assert _ask_code(client, filed.reference).status_code == 302
    again = _ask_code(client, filed.reference)
    assert again.status_code == 429
    unknown = visitor(acme, address="203.0.113.70")
    assert _ask_code(unknown, "BSV-2026-999998").status_code == 302
    assert _ask_code(unknown, "BSV-2026-999998").status_code == 429
    assert len(mail.outbox) == 1


def test_code_checks_are_limited_per_client_address(acme, filed, settings):
    settings.INTAKE_CHECKS_PER_IP_HOUR = 2
    client = visitor(acme)
    _ask_code(client, filed.reference)
    for _ in range(2):
        assert _enter(client, "000000").status_code == 400
    limited = _enter(client, code_in(mail.outbox[-1]))
    assert limited.status_code == 429
    assert "çok fazla deneme" in limited.content.decode()


def test_code_requests_are_limited_per_client_address(acme, settings):
    settings.INTAKE_CODES_PER_IP_HOUR = 1
    client = visitor(acme)
    assert _ask_code(client, "BSV-2026-000010").status_code == 302
    assert _ask_code(client, "BSV-2026-000011").status_code == 429


def test_a_malformed_reference_is_named_by_its_field(acme):
    response = _ask_code(visitor(acme), "12345")
    assert response.status_code == 400
    assert 'id="id_reference_error"' in response.content.decode()


def test_follow_forms_refuse_posts_without_csrf_token(acme, filed):
    client = visitor(acme, enforce_csrf_checks=True)
    assert client.post(reverse("intake:follow"), {"reference": filed.reference, "medium": "email"}).status_code == 403  # fmt: skip
    assert client.post(reverse("intake:follow_code"), {"code": "123456"}).status_code == 403
    assert client.post(reverse("intake:verify"), {"action": "check", "code": "123456"}).status_code == 403  # fmt: skip
    assert mail.outbox == []


def test_code_requests_for_known_and_unknown_references_wait_for_the_same_floor(
    acme, filed, settings, monkeypatch
):
    # a floor far above the work's duration, so both answers wait (the wait is recorded, not slept)
    settings.INTAKE_CODE_REQUEST_FLOOR_MS = 60_000
    waits = []
    monkeypatch.setattr("requests.views.intake.time.sleep", waits.append)
    _ask_code(visitor(acme, address="203.0.113.81"), filed.reference)
    _ask_code(visitor(acme, address="203.0.113.82"), "BSV-2026-999997")
    # each answer was held until the floor: what is left of the 60 s after the work
    assert len(waits) == 2
    assert all(50 < wait <= 60 for wait in waits)
