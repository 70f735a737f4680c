"""Identity verification by a one-time code: it goes to what the register holds, never only
to what was typed; the code is hashed, lasts 10 minutes, allows 5 tries, and resends are
throttled; and the pages read the same whether or not the person is known."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import AuditEntry
from requests.models import Application, ApplicationCode, ApplicationStatus, IdentityMethod
from tests.requests.helpers import register_subject, tckn_make
from tests.requests.intake_support import (
    code_in,
    form_data,
    page_text,
    sent_after_commit,
    submit,
    throttle_reset,
    visitor,
)

pytestmark = pytest.mark.django_db

KNOWN = tckn_make(9101)
HELD_EMAIL = "kayitli.ayse@ornek.com.tr"
HELD_PHONE = "+905321112212"
TYPED_EMAIL = "baska.biri@saldirgan.example"


@pytest.fixture(autouse=True)
def _fresh_limits(settings):
    settings.INTAKE_CODE_REQUEST_FLOOR_MS = 0  # the floor has a test of its own (follow)
    throttle_reset()
    yield
    throttle_reset()


@pytest.fixture
def known(acme):
    with tenant_context(acme):
        return register_subject(tckn=KNOWN, email=HELD_EMAIL, phone=HELD_PHONE)


def _applied(tenant, *, tckn: str, email: str = TYPED_EMAIL, **kwargs):
    client = visitor(tenant, **kwargs)
    assert submit(client, form_data(tckn=tckn, email=email, phone="05559998877")).status_code == 302
    return client


def _send(client, medium: str = "email"):
    return sent_after_commit(client, reverse("intake:verify"), {"action": "send", "medium": medium})


def _check(client, code: str):
    return client.post(reverse("intake:verify"), {"action": "check", "code": code})


def _application(tenant) -> Application:
    with tenant_context(tenant):
        return Application.objects.get()


def test_the_code_goes_to_the_registers_email_not_the_typed_one(acme, known):
    client = _applied(acme, tckn=KNOWN)
    assert _send(client).status_code == 302
    assert [message.to for message in mail.outbox] == [[HELD_EMAIL]]
    code = code_in(mail.outbox[0])
    assert _check(client, code).status_code == 302
    application = _application(acme)
    assert application.identity_method == IdentityMethod.EMAIL_CODE
    assert application.verified_destination == "k***@ornek.com.tr"
    assert application.status == ApplicationStatus.IN_PROGRESS
    page = client.get(reverse("intake:verify")).content.decode()
    assert "Kimliğiniz doğrulandı" in page
    with tenant_context(acme):
        events = set(AuditEntry.objects.values_list("detail__event", flat=True))
    assert {"registered", "register_contact_read", "code_sent", "code_used"} <= events


def test_the_code_goes_by_text_message_to_the_registers_phone(acme, known):
    client = _applied(acme, tckn=KNOWN)
    _send(client, "phone")
    # The default SMS sender hands the text to the e-mail relay as an e-mail-to-SMS gateway.
    assert [message.to for message in mail.outbox] == [["905321112212@sms.invalid"]]
    _check(client, code_in(mail.outbox[0]))
    application = _application(acme)
    assert application.identity_method == IdentityMethod.PHONE_CODE
    assert application.verified_destination == "+90 5** *** ** 12"


def test_an_unknown_person_proves_control_of_the_typed_address(acme):
    client = _applied(acme, tckn=tckn_make(9102), email="yeni.kisi@ornek.com.tr")
    _send(client)
    assert [message.to for message in mail.outbox] == [["yeni.kisi@ornek.com.tr"]]
    _check(client, code_in(mail.outbox[0]))
    application = _application(acme)
    assert application.subject is None
    assert application.identity_method == IdentityMethod.ADDRESS_CONTROL
    assert application.verified_destination == "y***@ornek.com.tr"


def test_a_known_person_without_that_medium_in_the_register_gets_nothing_typed(acme):
    with tenant_context(acme):
        register_subject(tckn=KNOWN, email=HELD_EMAIL)  # no phone held
    client = _applied(acme, tckn=KNOWN)
    assert _send(client, "phone").status_code == 302
    assert mail.outbox == []  # never to the typed phone of a known person
    assert _check(client, "123456").status_code == 400
    assert _application(acme).identity_verified_at is None


def test_the_code_is_kept_only_as_a_hash(acme, known):
    client = _applied(acme, tckn=KNOWN)
    _send(client)
    code = code_in(mail.outbox[0])
    with tenant_context(acme):
        row = ApplicationCode.objects.get()
    assert code not in row.code_hash
    assert len(row.code_hash) == 64
    assert row.destination == "k***@ornek.com.tr"
    assert row.expires_at - row.created_at == timedelta(minutes=10)


def test_a_wrong_code_is_counted_and_named_by_the_field(acme, known):
    client = _applied(acme, tckn=KNOWN)
    _send(client)
    code = code_in(mail.outbox[0])
    wrong = "000000" if code != "000000" else "111111"
    response = _check(client, wrong)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_code_error"' in html
    assert "Kod doğru değil" in html
    with tenant_context(acme):
        assert ApplicationCode.objects.get().attempts == 1
    assert _application(acme).identity_verified_at is None


def test_a_badly_formed_code_is_refused_without_counting(acme, known):
    client = _applied(acme, tckn=KNOWN)
    _send(client)
    response = _check(client, "12ab")
    assert "Kodun 6 hanesini girin." in response.content.decode()
    with tenant_context(acme):
        assert ApplicationCode.objects.get().attempts == 0


def test_after_five_wrong_codes_even_the_right_one_is_refused(acme, known):
    client = _applied(acme, tckn=KNOWN)
    _send(client)
    code = code_in(mail.outbox[0])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        assert "Kod doğru değil" in _check(client, wrong).content.decode()
    assert "Bu kod artık kullanılamaz" in _check(client, wrong).content.decode()
    assert "Bu kod artık kullanılamaz" in _check(client, code).content.decode()
    assert _application(acme).identity_verified_at is None


def test_an_expired_code_is_refused(acme, known):
    client = _applied(acme, tckn=KNOWN)
    _send(client)
    code = code_in(mail.outbox[0])
    with time_machine.travel(timezone.now() + timedelta(minutes=10, seconds=1)):
        response = _check(client, code)
    assert "Bu kod artık kullanılamaz" in response.content.decode()
    assert _application(acme).identity_verified_at is None


def test_a_code_still_works_just_before_it_expires(acme, known):
    client = _applied(acme, tckn=KNOWN)
    _send(client)
    with time_machine.travel(timezone.now() + timedelta(minutes=9, seconds=50)):
        assert _check(client, code_in(mail.outbox[0])).status_code == 302
    assert _application(acme).identity_verified_at is not None


def test_a_code_works_once(acme, known):
    client = _applied(acme, tckn=KNOWN)
    _send(client)
    code = code_in(mail.outbox[0])
    _check(client, code)
    with tenant_context(acme):
        assert ApplicationCode.objects.get().used_at is not None


def test_resends_wait_a_minute_and_a_new_code_kills_the_old(acme, known):
    client = _applied(acme, tckn=KNOWN)
    _send(client)
    again = _send(client)
    assert again.status_code == 429
    assert "lütfen bir dakika bekleyin" in again.content.decode()
    assert len(mail.outbox) == 1
    first = code_in(mail.outbox[0])
    _minute_passes(acme, "verify", _application(acme).reference)
    assert _send(client).status_code == 302
    second = code_in(mail.outbox[1])
    if first != second:
        assert "Kod doğru değil" in _check(client, first).content.decode()
    assert _check(client, second).status_code == 302


def test_at_most_a_few_codes_an_hour(acme, known, settings):
    settings.INTAKE_CODES_PER_HOUR = 2
    client = _applied(acme, tckn=KNOWN)
    reference = _application(acme).reference
    for _ in range(2):
        assert _send(client).status_code == 302
        _minute_passes(acme, "verify", reference)
    refused = _send(client)
    assert refused.status_code == 429
    assert "bir saat sonra" in refused.content.decode()
    assert len(mail.outbox) == 2


def _minute_passes(tenant, purpose: str, reference: str) -> None:
    from django.core.cache import cache

    from requests.throttle import _key

    with tenant_context(tenant):
        cache.delete(_key(f"resend-min-{purpose}", reference))


def test_known_and_unknown_people_see_the_same_pages(acme, known):
    # given two applicants, one whom the register knows and one whom it does not
    pages = []
    for number, address in ((KNOWN, "203.0.113.1"), (tckn_make(9103), "203.0.113.2")):
        client = _applied(acme, tckn=number, address=address)
        first = client.get(reverse("intake:verify"))
        sent = _send(client, "phone")
        after_send = client.get(reverse("intake:verify"))
        wrong = _check(client, "000001")
        pages.append(
            [
                (first.status_code, page_text(first)),
                (sent.status_code, sent["Location"]),
                (after_send.status_code, page_text(after_send)),
                (wrong.status_code, page_text(wrong)),
            ]
        )
    # then every page and status is the same, word for word
    assert pages[0] == pages[1]


def test_code_requests_and_checks_are_limited_per_person(acme, known, settings):
    settings.INTAKE_CHECKS_PER_IDENTITY_HOUR = 1
    client = _applied(acme, tckn=KNOWN)
    _send(client)
    assert _check(client, "000000" if code_in(mail.outbox[0]) != "000000" else "111111").status_code == 400  # fmt: skip
    # the limit per person is reached before the one per address (60)
    limited = _check(client, code_in(mail.outbox[0]))
    assert limited.status_code == 429
    assert _application(acme).identity_verified_at is None
