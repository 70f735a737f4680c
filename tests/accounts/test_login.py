"""Log-in: password, then a second factor; lockout; session rotation and idle timeout."""

from datetime import timedelta

import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import tenant_context

from accounts.models import Role
from audit.models import Action, AuditEntry
from tests.factories import PASSWORD, staff_create, totp_now


def _password_step(client: Client, username: str, password: str = PASSWORD):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


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
        from accounts.models import User
        from accounts.services import backup_codes_regenerate

        code = backup_codes_regenerate(user=User.objects.get(username="colleague"))[0]
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
    assert len(confirmed.context["codes"]) == settings.OTP_STATIC_BACKUP_CODES
    assert client.get("/").status_code == 200
    with tenant_context(acme):
        assert TOTPDevice.objects.get(user__username="newbie").confirmed


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
