"""The register's own destruction of a subject: a controller admin, a reason, a current code."""

from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import tenant_context

from accounts.models import User
from audit.models import Action, AuditEntry
from retention.models import DestructionMinutes, DestructionRun
from subjects.models import DataSubject, PersonalDataItem
from tests.factories import totp_now
from tests.retention.register import hold, item, subject


def _code(acme, username="owner") -> str:
    with tenant_context(acme):
        return totp_now(TOTPDevice.objects.get(user=User.objects.get(username=username)))


def _person(acme) -> DataSubject:
    with tenant_context(acme):
        return subject(item("contact"), item("identity"))


def test_a_controller_admin_destroys_a_subject_with_a_reason_and_a_current_code(acme, owner):
    person = _person(acme)
    url = reverse("retention:subject_destroy", args=[person.uuid])
    assert url in owner.get(reverse("subjects:detail", args=[person.uuid])).content.decode()

    response = owner.post(url, {"reason": "Başvuru BSV-2026-000042", "token": _code(acme)})

    assert response.status_code == 302
    with tenant_context(acme):
        person.refresh_from_db()
        assert person.key_destroyed_at is not None
        assert not PersonalDataItem.objects.filter(subject=person).exists()
        run = DestructionRun.objects.get(kind=DestructionRun.Kind.REGISTER)
        assert run.reason == "Başvuru BSV-2026-000042" and run.approved_by.username == "owner"
        assert DestructionMinutes.objects.filter(run=run).exists()
        assert (
            AuditEntry.objects.filter(action=Action.DESTROY, detail__run=str(run.uuid)).count() == 1
        )


def test_a_wrong_code_destroys_nothing_and_says_so_next_to_the_field(acme, owner):
    person = _person(acme)
    response = owner.post(
        reverse("retention:subject_destroy", args=[person.uuid]),
        {"reason": "Başvuru BSV-2026-000042", "token": "000000"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["token"]
    with tenant_context(acme):
        assert PersonalDataItem.objects.filter(subject=person).count() == 2
        assert not DestructionRun.objects.exists()


def test_a_held_subject_is_refused_with_the_holds_reason(acme, owner):
    person = _person(acme)
    with tenant_context(acme):
        hold(scope="subject", subject=person, reason="Devam eden dava 2026/77")
    response = owner.post(
        reverse("retention:subject_destroy", args=[person.uuid]),
        {"reason": "Başvuru BSV-2026-000042", "token": _code(acme)},
    )
    assert response.status_code == 200
    assert "Devam eden dava 2026/77" in response.content.decode()
    with tenant_context(acme):
        assert PersonalDataItem.objects.filter(subject=person).count() == 2


def test_only_a_controller_admin_may_destroy_a_subject(acme, colleague, auditor):
    person = _person(acme)
    url = reverse("retention:subject_destroy", args=[person.uuid])
    for client in (colleague, auditor):
        assert client.post(url, {"reason": "Başvuru", "token": "123456"}).status_code == 403
        assert (
            url not in client.get(reverse("subjects:detail", args=[person.uuid])).content.decode()
        )
    with tenant_context(acme):
        assert PersonalDataItem.objects.filter(subject=person).count() == 2
