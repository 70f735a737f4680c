"""Log-in: password, then a second factor; lockout; session rotation and idle timeout."""

from datetime import timedelta

import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from accounts.second_factor import backup_codes_regenerate
from audit.models import Action, AuditEntry
from tests.factories import PASSWORD, staff_create, totp_now


def _password_step(client: Client, username: str, password: str = PASSWORD):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def _device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user, confirmed=True)


def _entries(tenant, action: Action, username: str) -> list[AuditEntry]:
    with tenant_context(tenant):
        return list(AuditEntry.objects.filter(action=action, actor_label=username).order_by("id"))


def test_staff_logs_in_with_password_then_totp_and_sees_dashboard(acme):
    client = Client(HTTP_HOST=acme.host)

    response = _password_step(client, "owner")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:verify"))
    assert client.get("/").status_code == 302  # password alone opens nothing

    with tenant_context(acme):
        device = TOTPDevice.objects.get(user__username="owner")
    response = client.post(reverse("accounts:verify"), {"token": totp_now(device)})
    assert response.status_code == 302

    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert "Acme Perakende" in dashboard.content.decode()


def test_a_login_is_logged_once_after_the_second_factor_and_the_password_step_apart(acme):
    client = Client(HTTP_HOST=acme.host)

    _password_step(client, "owner")

    assert len(_entries(acme, Action.PASSWORD_ACCEPTED, "owner")) == 1
    assert _entries(acme, Action.LOGIN, "owner") == []  # a password alone is no log-in

    with tenant_context(acme):
        device = TOTPDevice.objects.get(user__username="owner")
    client.post(reverse("accounts:verify"), {"token": totp_now(device)})
    client.get("/")

    [login] = _entries(acme, Action.LOGIN, "owner")
    assert login.detail == {"second_factor": "authenticator"}
    assert login.pk > _entries(acme, Action.PASSWORD_ACCEPTED, "owner")[0].pk


def test_a_login_with_a_backup_code_is_logged_as_such(acme):
    with tenant_context(acme):
        user = User.objects.get(username="colleague")
        code = backup_codes_regenerate(user=user, token=totp_now(_device(user)))[0]
    client = Client(HTTP_HOST=acme.host)
    _password_step(client, "colleague")

    client.post(reverse("accounts:verify"), {"token": code})

    [login] = _entries(acme, Action.LOGIN, "colleague")
    assert login.detail == {"second_factor": "backup_code"}


def test_wrong_second_factor_is_refused_and_logged(acme):
    client = Client(HTTP_HOST=acme.host)
    _password_step(client, "owner")
    with tenant_context(acme):
        device = TOTPDevice.objects.get(user__username="owner")

    response = client.post(reverse("accounts:verify"), {"token": totp_now(device, offset_steps=10)})

    assert response.status_code == 200
    assert "Kod geçerli değil" in response.content.decode()
    assert client.get("/").status_code == 302
    with tenant_context(acme):
        assert AuditEntry.objects.filter(action=Action.OTP_FAILED, actor_label="owner").exists()


def test_backup_code_works_exactly_once(acme):
    with tenant_context(acme):
        user = User.objects.get(username="colleague")
        code = backup_codes_regenerate(user=user, token=totp_now(_device(user)))[0]
    first, second = Client(HTTP_HOST=acme.host), Client(HTTP_HOST=acme.host)
    _password_step(first, "colleague")
    _password_step(second, "colleague")

    assert first.post(reverse("accounts:verify"), {"token": code}).status_code == 302
    assert second.post(reverse("accounts:verify"), {"token": code}).status_code == 200
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302


def test_first_login_enrols_an_authenticator_and_shows_backup_codes(acme):
    with tenant_context(acme):
        staff_create(schema="acme", username="newbie", role=Role.REQUEST_OFFICER, with_device=False)
    client = Client(HTTP_HOST=acme.host)

    response = _password_step(client, "newbie")
    assert response["Location"] == reverse("accounts:enroll")
    page = client.get(reverse("accounts:enroll"))
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.content.decode()
    assert client.get("/audit/").status_code == 302  # still nothing beyond enrolment

    with tenant_context(acme):
        device = TOTPDevice.objects.get(user__username="newbie", confirmed=False)
    confirmed = client.post(reverse("accounts:enroll"), {"token": totp_now(device)})

    assert confirmed.status_code == 200
    assert len(confirmed.context["codes"]) == settings.OTP_BACKUP_CODES
    assert client.get("/").status_code == 200
    with tenant_context(acme):
        assert TOTPDevice.objects.get(user__username="newbie").confirmed
    [login] = _entries(acme, Action.LOGIN, "newbie")
    assert login.detail == {"second_factor": "enrolment"}


def test_staff_of_one_tenant_cannot_log_in_on_another(acme):
    client = Client(HTTP_HOST=acme.host)

    response = _password_step(client, "outsider")

    assert response.status_code == 200
    assert "Kullanıcı adı veya parola hatalı" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_the_account(acme):
    client = Client(HTTP_HOST=acme.host)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _password_step(client, "auditor", "wrong-password-123")

    response = _password_step(client, "auditor")  # the right password, too late

    assert response.status_code == 429
    assert "kilitlendi" in response.content.decode()
    assert "_auth_user_id" not in client.session
    with tenant_context(acme):
        failures = AuditEntry.objects.filter(action=Action.LOGIN_FAILED, actor_label="auditor")
        assert failures.count() >= settings.AXES_FAILURE_LIMIT


def test_failures_from_another_address_do_not_lock_the_user_out_of_their_own(acme):
    attacker = Client(HTTP_HOST=acme.host, REMOTE_ADDR="203.0.113.66")
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        _password_step(attacker, "owner", "guessed-password-1")
    assert _password_step(attacker, "owner").status_code == 429  # locked out there

    at_the_office = Client(HTTP_HOST=acme.host, REMOTE_ADDR="198.51.100.10")
    response = _password_step(at_the_office, "owner")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:verify"))


def test_many_user_names_from_one_address_hit_the_per_address_limit(acme):
    sprayer = Client(HTTP_HOST=acme.host, REMOTE_ADDR="203.0.113.77")
    for number in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        response = _password_step(sprayer, f"guess{number}", "Yaz-2025-parola")
        assert response.status_code == 200  # each name stays below its own limit

    # then: even a right password is refused from that address, before it is checked
    refused = _password_step(sprayer, "auditor")
    assert refused.status_code == 429
    assert "Ağ adresinizden" in refused.content.decode()
    assert "_auth_user_id" not in sprayer.session
    elsewhere = Client(HTTP_HOST=acme.host, REMOTE_ADDR="198.51.100.10")
    assert _password_step(elsewhere, "auditor").status_code == 302


def test_behind_a_proxy_the_client_address_counts_not_the_proxys(acme, settings):
    # given: the portal behind one TLS proxy, which connects from 10.0.0.2 for everyone
    settings.TRUSTED_PROXY_COUNT = 1

    def through_proxy(client_address: str, forged: str = "") -> Client:
        chain = f"{forged}, {client_address}" if forged else client_address
        return Client(HTTP_HOST=acme.host, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=chain)

    # when: one client sprays user names, claiming another address left of the proxy's entry
    sprayer = through_proxy("203.0.113.99", forged="198.51.100.10")
    for number in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        _password_step(sprayer, f"guess{number}", "Yaz-2025-parola")

    # then: that client is blocked, everyone else behind the same proxy is not
    assert _password_step(sprayer, "auditor").status_code == 429
    assert _password_step(through_proxy("198.51.100.10"), "auditor").status_code == 302
    failure = _entries(acme, Action.LOGIN_FAILED, "guess0")[-1]
    assert failure.ip_address == "203.0.113.99"


def test_the_per_address_limit_counts_per_controller(acme, globex):
    sprayer = Client(HTTP_HOST=acme.host, REMOTE_ADDR="203.0.113.88")
    for number in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        _password_step(sprayer, f"guess{number}", "Yaz-2025-parola")
    assert _password_step(sprayer, "auditor").status_code == 429

    same_address_other_host = Client(HTTP_HOST=globex.host, REMOTE_ADDR="203.0.113.88")
    assert _password_step(same_address_other_host, "outsider").status_code == 302


def test_login_rotates_the_session_key(acme):
    client = Client(HTTP_HOST=acme.host)
    client.get(reverse("accounts:login"))
    session = client.session
    session["probe"] = "before"
    session.save()
    before = session.session_key

    _password_step(client, "owner")

    assert client.session.session_key != before


def test_idle_session_expires(owner):
    assert owner.get("/").status_code == 200

    with time_machine.travel(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)):
        response = owner.get("/")

    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_logout_ends_the_session(owner):
    owner.post(reverse("accounts:logout"))
    assert owner.get("/").status_code == 302
