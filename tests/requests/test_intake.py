"""The public application form: every field's bad input refused with nothing saved, the
foreigner's and the representative's paths, sniffed and limited attachments, CSRF, rate
limits, and controllers kept apart."""

import re

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

from audit.models import AuditEntry
from requests.crypto import open_text
from requests.models import Application, ApplicationDocument, ApplicationStatus
from requests.services import applicant_of, document_content
from tests.requests.helpers import register_subject, tckn_make
from tests.requests.intake_support import (
    EXE,
    JPEG,
    PDF,
    PNG,
    form_data,
    submit,
    throttle_reset,
    upload,
    visitor,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits(settings):
    settings.INTAKE_CODE_REQUEST_FLOOR_MS = 0  # the floor has a test of its own (follow)
    throttle_reset()
    yield
    throttle_reset()


def _count(tenant) -> tuple[int, int]:
    with tenant_context(tenant):
        return Application.objects.count(), ApplicationDocument.objects.count()


def _files_on_disk(tenant) -> int:
    folder = f"{tenant.schema_name}/applications"
    if not default_storage.exists(folder):
        return 0
    return len(default_storage.listdir(folder)[1])


def test_the_form_is_public_turkish_by_default_and_english_on_request(acme):
    client = visitor(acme)
    page = client.get(reverse("intake:form"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Kişisel verileriniz hakkında başvuru" in html
    assert 'lang="tr"' in html
    # no staff navigation on the public page
    assert reverse("subjects:index") not in html
    client.cookies["django_language"] = "en"
    assert "Apply about your personal data" in client.get(reverse("intake:form")).content.decode()


def test_the_staff_login_page_links_to_the_public_form(acme):
    page = Client(HTTP_HOST=acme.host).get(reverse("accounts:login"))
    assert reverse("intake:form") in page.content.decode()


def test_a_valid_application_is_registered_sealed_and_the_reference_shown(acme):
    client = visitor(acme)
    response = submit(client, form_data(attachments=[upload("ek.pdf", PDF)]))
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:verify")
    page = client.get(reverse("intake:verify"))
    with tenant_context(acme):
        application = Application.objects.get()
        assert application.channel == "web"
        assert application.status == ApplicationStatus.RECEIVED
        assert application.rights == ["a", "c2"]
        applicant = applicant_of(application)
        assert applicant["first_name"] == "Ayşe"
        assert applicant["phone"] == "+905321234567"
        assert open_text(application, "details_enc") == "Hangi verilerimi işliyorsunuz?"
        document = application.documents.get()
        assert document.kind == ApplicationDocument.Kind.ATTACHMENT
        assert document.content_type == "application/pdf"
        assert document_content(document) == PDF
        assert AuditEntry.objects.filter(detail__event="registered").count() == 1
    assert application.reference in page.content.decode()
    assert "Bu numarayı saklayın" in page.content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"first_name": ""}, "first_name", "Bu alan zorunlu."),
        ({"last_name": ""}, "last_name", "Bu alan zorunlu."),
        ({"tckn": "12345678901"}, "tckn", "Bu geçerli bir T.C. kimlik numarası değil"),
        ({"tckn": ""}, "tckn", "T.C. kimlik numaranızı girin."),
        ({"tckn": "1234567890１"}, "tckn", "Bu geçerli bir T.C. kimlik numarası değil"),
        ({"identity_kind": "x"}, "identity_kind", "Geçerli bir seçenek seçin"),
        (
            {
                "identity_kind": "foreign",
                "tckn": "",
                "nationality": "D1",
                "foreign_id": "C01X00T47",
            },
            "nationality",
            "2 harfli ülke kodunu",
        ),
        (
            {"identity_kind": "foreign", "tckn": "", "nationality": "", "foreign_id": "C01X00T47"},
            "nationality",
            "Uyruğunuzu girin.",
        ),
        (
            {"identity_kind": "foreign", "tckn": "", "nationality": "DE", "foreign_id": "AB"},
            "foreign_id",
            "5 ile 20",
        ),
        (
            {"identity_kind": "foreign", "tckn": "", "nationality": "DE", "foreign_id": ""},
            "foreign_id",
            "Pasaport veya kimlik numaranızı girin.",
        ),
        (
            {
                "identity_kind": "foreign",
                "tckn": "",
                "nationality": "TR",
                "foreign_id": "C01X00T47",
            },
            "nationality",
            "Cumhuriyeti vatandaşları",
        ),
        ({"address": ""}, "address", "Bu alan zorunlu."),
        ({"email": "ayse@"}, "email", "Geçerli bir e-posta adresi girin."),
        ({"email": ""}, "email", "Bu alan zorunlu."),
        ({"phone": "12ab"}, "phone", "10 ile 15 hane"),
        ({"rights": []}, "rights", "En az bir hak seçin."),
        ({"rights": ["a", "z"]}, "rights", "Geçerli bir seçenek seçin"),
        ({"details": ""}, "details", "Bu alan zorunlu."),
        ({"details": "x" * 5001}, "details", "5000"),
    ],
)
def test_bad_input_is_refused_by_its_field_and_nothing_is_saved(acme, changes, field, message):
    response = submit(visitor(acme), form_data(**changes))
    assert response.status_code == 400
    html = response.content.decode()
    error = html.split(f'id="id_{field}_error"', 1)[1].split("</div>", 1)[0]
    assert message in error
    # the field (or its group of choices) names its message for screen readers
    assert re.search(rf'aria-describedby="[^"]*id_{field}_error', html)
    assert 'id="error-summary"' in html
    assert _count(acme) == (0, 0)


def test_a_field_in_error_names_its_message_for_screen_readers(acme):
    html = submit(visitor(acme), form_data(email="nope")).content.decode()
    tag = html.split('name="email"', 1)[1].split(">", 1)[0]
    assert 'aria-describedby="id_email_error"' in tag
    assert 'aria-invalid="true"' in tag
    assert 'href="#id_email"' in html  # the summary links to the field


def test_a_foreigner_applies_with_nationality_and_passport(acme):
    client = visitor(acme)
    data = form_data(identity_kind="foreign", tckn="", nationality="de", foreign_id="c01x 00t47")
    assert submit(client, data).status_code == 302
    with tenant_context(acme):
        applicant = applicant_of(Application.objects.get())
    assert (applicant["nationality"], applicant["foreign_id"], applicant["tckn"]) == (
        "DE",
        "C01X00T47",
        "",
    )


def test_a_foreigner_known_to_the_register_by_passport_is_matched(acme):
    with tenant_context(acme):
        from subjects import services as subject_services
        from subjects import validation

        result = subject_services.register_ingest(
            inputs=validation.records_validate(
                records=[
                    {
                        "group": "customer",
                        "name": "Hans Müller",
                        "identifiers": {"passport": "DE:C01X00T47", "email": "hans@ornek.de"},
                        "items": [],
                    }
                ]
            ),
            source="test",
        )
    submit(visitor(acme), form_data(identity_kind="foreign", tckn="", nationality="DE",
                                    foreign_id="C01X00T47"))  # fmt: skip
    with tenant_context(acme):
        assert str(Application.objects.get().subject.uuid) == str(result.subjects[0])


def test_on_behalf_without_power_of_attorney_is_refused(acme):
    data = form_data(on_behalf="on", representative_name="Av. Mehmet Demir",
                     representative_contact="mehmet@hukuk.com.tr")  # fmt: skip
    response = submit(visitor(acme), data)
    assert response.status_code == 400
    assert "Vekâletnameyi ekleyin." in response.content.decode()
    assert _count(acme) == (0, 0)


def test_on_behalf_without_representative_is_refused(acme):
    data = form_data(on_behalf="on", power_of_attorney=upload("vekalet.pdf", PDF))
    html = submit(visitor(acme), data).content.decode()
    assert 'id="id_representative_name_error"' in html
    assert 'id="id_representative_contact_error"' in html
    assert _count(acme) == (0, 0)


def test_on_behalf_with_power_of_attorney_keeps_it_sealed(acme):
    data = form_data(on_behalf="on", representative_name="Av. Mehmet Demir",
                     representative_contact="mehmet@hukuk.com.tr",
                     power_of_attorney=upload("vekalet.png", PNG, "image/png"))  # fmt: skip
    assert submit(visitor(acme), data).status_code == 302
    with tenant_context(acme):
        application = Application.objects.get()
        assert application.on_behalf is True
        assert applicant_of(application)["representative_name"] == "Av. Mehmet Demir"
        document = application.documents.get()
        assert document.kind == ApplicationDocument.Kind.POWER_OF_ATTORNEY
        assert document.content_type == "image/png"
        with default_storage.open(document.path, "rb") as handle:
            assert PNG not in handle.read()


def test_a_program_named_pdf_is_refused_by_its_content(acme):
    before = _files_on_disk(acme)
    data = form_data(attachments=[upload("ek1.pdf", PDF), upload("fatura.pdf", EXE)])
    response = submit(visitor(acme), data)
    assert response.status_code == 400
    error = response.content.decode().split('id="id_attachments_error"', 1)[1]
    assert "“fatura.pdf” bir PDF, JPEG veya PNG dosyası değil." in error.split("</div>")[0]
    assert _count(acme) == (0, 0)
    assert _files_on_disk(acme) == before


def test_a_power_of_attorney_that_is_not_a_document_is_refused(acme):
    data = form_data(on_behalf="on", representative_name="Av. Mehmet Demir",
                     representative_contact="mehmet@hukuk.com.tr",
                     power_of_attorney=upload("vekalet.pdf", EXE))  # fmt: skip
    response = submit(visitor(acme), data)
    assert "id_power_of_attorney_error" in response.content.decode()
    assert _count(acme) == (0, 0)


def test_files_over_the_size_or_count_limit_are_refused(acme, settings):
    settings.INTAKE_ATTACHMENT_MAX_BYTES = 1000
    settings.INTAKE_ATTACHMENT_MAX_COUNT = 2
    big = submit(visitor(acme), form_data(attachments=[upload("buyuk.pdf", PDF + b"0" * 1000)]))
    assert big.status_code == 400
    assert "“buyuk.pdf” 1000\xa0bayt boyutundan büyük." in big.content.decode()
    many = submit(
        visitor(acme),
        form_data(attachments=[upload(f"{n}.jpg", JPEG, "image/jpeg") for n in range(3)]),
    )
    assert many.status_code == 400
    assert "En fazla 2 dosya ekleyin." in many.content.decode()
    assert _count(acme) == (0, 0)
    ok = submit(
        visitor(acme),
        form_data(attachments=[upload(f"{n}.jpg", JPEG, "image/jpeg") for n in range(2)]),
    )
    assert ok.status_code == 302


def test_the_form_refuses_a_post_without_csrf_token(acme):
    client = visitor(acme, enforce_csrf_checks=True)
    assert client.get(reverse("intake:form")).status_code == 200
    assert submit(client, form_data()).status_code == 403
    assert _count(acme) == (0, 0)


def test_the_form_accepts_a_post_with_the_csrf_token(acme):
    client = visitor(acme, enforce_csrf_checks=True)
    client.get(reverse("intake:form"))
    token = client.cookies["csrftoken"].value
    assert submit(client, {**form_data(), "csrfmiddlewaretoken": token}).status_code == 302


def test_submissions_are_limited_per_client_address(acme, settings):
    settings.INTAKE_SUBMITS_PER_IP_HOUR = 2
    client = visitor(acme)
    assert submit(client, form_data(tckn=tckn_make(1))).status_code == 302
    assert submit(client, form_data(tckn=tckn_make(2))).status_code == 302
    refused = submit(client, form_data(tckn=tckn_make(3)))
    assert refused.status_code == 429
    assert "çok fazla deneme" in refused.content.decode()
    assert _count(acme)[0] == 2
    # another address is not held back
    assert (
        submit(visitor(acme, address="198.51.100.9"), form_data(tckn=tckn_make(3))).status_code
        == 302
    )


def test_submissions_are_limited_per_identity_number(acme, settings):
    settings.INTAKE_SUBMITS_PER_IDENTITY_HOUR = 1
    number = tckn_make(55)
    assert submit(visitor(acme), form_data(tckn=number)).status_code == 302
    refused = submit(visitor(acme, address="198.51.100.10"), form_data(tckn=number))
    assert refused.status_code == 429
    assert _count(acme)[0] == 1


def test_the_register_match_is_never_shown_before_verification(acme):
    with tenant_context(acme):
        register_subject(tckn=tckn_make(77), email="kayitli@ornek.com.tr", name="Gizli Kişi")
    client = visitor(acme)
    submit(client, form_data(tckn=tckn_make(77)))
    html = client.get(reverse("intake:verify")).content.decode()
    assert "Gizli" not in html
    assert "kayitli" not in html


def test_a_reference_of_one_controller_is_unknown_on_another_host(acme, globex):
    client = visitor(acme)
    submit(client, form_data())
    with tenant_context(acme):
        reference = Application.objects.get().reference
    connection.set_schema_to_public()
    stranger = visitor(globex)
    stranger.post(reverse("intake:follow"), {"reference": reference, "medium": "email"})
    response = stranger.post(reverse("intake:follow_code"), {"code": "123456"})
    assert response.status_code == 400
    with tenant_context(globex):
        assert not Application.objects.filter(reference=reference).exists()
    assert stranger.get(reverse("intake:follow_status", args=[reference])).status_code == 302


def test_a_filled_hidden_field_gives_a_program_away_and_nothing_is_saved(acme):
    response = submit(visitor(acme), form_data(website="http://spam.example"))
    assert response.status_code == 400
    assert "Başvurunuz gönderilemedi" in response.content.decode()
    assert _count(acme) == (0, 0)


def test_the_language_switch_works_without_logging_in(acme):
    client = visitor(acme)
    response = client.post(
        reverse("accounts:set_language"), {"language": "en", "next": reverse("intake:form")}
    )
    assert response.status_code == 302
    page = client.get(reverse("intake:form")).content.decode()
    assert 'lang="en"' in page
    assert "What do you request? (choose one or more)" in page


def test_files_already_written_are_removed_when_a_later_one_fails(acme, monkeypatch):
    from requests import intake

    real_store = intake.document_store
    calls = []

    def failing_store(application, **kwargs):
        calls.append(kwargs["name"])
        if len(calls) == 2:
            raise OSError("disk full")
        return real_store(application, **kwargs)

    monkeypatch.setattr(intake, "document_store", failing_store)
    before = _files_on_disk(acme)
    data = form_data(attachments=[upload("bir.pdf", PDF), upload("iki.pdf", PDF)])
    with pytest.raises(OSError):
        submit(visitor(acme), data)
    assert calls == ["bir.pdf", "iki.pdf"]
    assert _count(acme) == (0, 0)
    assert _files_on_disk(acme) == before
