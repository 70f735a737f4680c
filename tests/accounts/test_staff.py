"""Staff management: pending invitations, resending and revoking them, a lost authenticator,
and never a controller without an active admin."""

import re
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import tenant_context

from accounts import services
from accounts.models import BackupCodeDevice, Invitation, Role, User
from accounts.second_factor import (
    AUTHENTICATOR_CODE_INVALID,
    SELF_RESET,
    backup_codes_regenerate,
)
from accounts.services import INVITATION_ACCEPTED, LAST_ADMIN, NOT_INVITED, staff_user_update
from audit.models import Action, AuditEntry
from config.errors import PortalError
from tests.conftest import in_thread, portal_client
from tests.factories import PASSWORD, staff_create, totp_now

NEW_PASSWORD = "Uzun-ve-Guclu-Parola-9"
PENDING = "Davet beklemede"


def _invite(owner: Client, username: str = "ayse") -> str:
    response = owner.post(
        reverse("accounts:staff_invite"),
        {
            "username": username,
            "first_name": "Ayşe",
            "last_name": "Yılmaz",
            "email": f"{username}@acme.com.tr",
            "role": Role.REQUEST_OFFICER,
        },
    )
    return _link_path(response)


def _link_path(response) -> str:
    return "/" + response.context["link"].split("/", 3)[3]


def _status_on_staff_list(client: Client, username: str) -> str:
    page = client.get(reverse("accounts:staff")).content.decode()
    row = re.search(rf"<tr>\s*<td>{username}</td>.*?</tr>", page, re.S).group(0)
    return re.search(r'class="badge [^"]*">([^<]+)<', row).group(1)


def _member(acme, username: str) -> User:
    with tenant_context(acme):
        return User.objects.get(username=username)


def _accept(link: str, acme) -> int:
    invited = Client(HTTP_HOST=acme.host)
    return invited.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code


def _permission_events(acme, member: User) -> list[str]:
    with tenant_context(acme):
        entries = AuditEntry.objects.filter(
            action=Action.PERMISSION_CHANGE, object_id=str(member.pk)
        ).order_by("id")
        return [entry.detail.get("event") for entry in entries]


# --- Invitations ---------------------------------------------------------------


def test_an_invited_member_shows_as_pending_until_they_accept(owner, acme):
    link = _invite(owner)

    assert _status_on_staff_list(owner, "ayse") == PENDING

    assert _accept(link, acme) == 302
    assert _status_on_staff_list(owner, "ayse") == "Etkin"


def test_an_expired_invitation_shows_as_expired(owner, acme):
    _invite(owner)
    later = timezone.now() + timedelta(hours=settings.PORTAL_INVITATION_HOURS + 1)

    with time_machine.travel(later):
        client = portal_client(acme, "owner")
        assert _status_on_staff_list(client, "ayse") == "Davetin süresi doldu"


def test_a_resent_invitation_gives_a_new_link_and_the_old_one_stops_working(owner, acme):
    old_link = _invite(owner)
    member = _member(acme, "ayse")

    response = owner.post(reverse("accounts:staff_invitation_resend", args=[member.pk]))

    assert response.status_code == 200
    new_link = _link_path(response)
    assert new_link != old_link
    assert Client(HTTP_HOST=acme.host).get(old_link).status_code == 404
    assert _accept(old_link, acme) == 404
    assert _status_on_staff_list(owner, "ayse") == PENDING
    assert _accept(new_link, acme) == 302
    assert _permission_events(acme, member) == ["user_invited", "invitation_resent"]


def test_a_revoked_invitation_stops_the_link_and_the_member_cannot_log_in(owner, acme):
    link = _invite(owner)
    member = _member(acme, "ayse")

    response = owner.post(reverse("accounts:staff_invitation_revoke", args=[member.pk]))

    assert response.status_code == 302
    assert _status_on_staff_list(owner, "ayse") == "Davet geri alındı"
    assert _accept(link, acme) == 404
    login = Client(HTTP_HOST=acme.host).post(
        reverse("accounts:login"), {"username": "ayse", "password": NEW_PASSWORD}
    )
    assert login.status_code == 200 and "_auth_user_id" not in login.client.session
    with tenant_context(acme):
        member.refresh_from_db()
        assert not member.is_active and not member.has_usable_password()
    assert _permission_events(acme, member) == ["user_invited", "invitation_revoked"]


def test_resending_after_a_revocation_lets_the_member_in_again(owner, acme):
    _invite(owner)
    member = _member(acme, "ayse")
    owner.post(reverse("accounts:staff_invitation_revoke", args=[member.pk]))

    response = owner.post(reverse("accounts:staff_invitation_resend", args=[member.pk]))

    assert _accept(_link_path(response), acme) == 302
    login = Client(HTTP_HOST=acme.host).post(
        reverse("accounts:login"), {"username": "ayse", "password": NEW_PASSWORD}
    )
    assert login["Location"] == reverse("accounts:enroll")


@pytest.mark.parametrize("action", ["staff_invitation_resend", "staff_invitation_revoke"])
def test_an_accepted_invitation_can_be_neither_resent_nor_revoked(owner, acme, action):
    link = _invite(owner)
    _accept(link, acme)
    member = _member(acme, "ayse")
    with tenant_context(acme):
        invitations_before = list(Invitation.objects.filter(user=member).values())

    response = owner.post(reverse(f"accounts:{action}", args=[member.pk]), follow=True)

    assert str(INVITATION_ACCEPTED) in [str(m) for m in response.context["messages"]]
    assert "Bu kişi daveti zaten kabul etti" in response.content.decode()
    with tenant_context(acme):
        assert list(Invitation.objects.filter(user=member).values()) == invitations_before
        assert User.objects.get(pk=member.pk).is_active


def test_a_member_who_was_never_invited_has_no_invitation_to_revoke(owner, acme):
    member = _member(acme, "colleague")

    response = owner.post(
        reverse("accounts:staff_invitation_revoke", args=[member.pk]), follow=True
    )

    assert str(NOT_INVITED) in [str(m) for m in response.context["messages"]]
    with tenant_context(acme):
        assert User.objects.get(pk=member.pk).is_active


def test_staff_list_queries_do_not_grow_with_invitations(owner, acme):
    _invite(owner, "ayse")
    with CaptureQueriesContext(connection) as few:
        pending_before = owner.get(reverse("accounts:staff")).content.decode().count(PENDING)
    for name in ("bora", "cem", "deniz"):
        _invite(owner, name)
    bora = _member(acme, "bora")
    owner.post(reverse("accounts:staff_invitation_resend", args=[bora.pk]))

    with CaptureQueriesContext(connection) as many:
        page = owner.get(reverse("accounts:staff"))

    assert page.content.decode().count(PENDING) == pending_before + 3
    assert len(many.captured_queries) == len(few.captured_queries)


# --- A lost authenticator -------------------------------------------------------------


def _own_code(acme, username: str = "owner", offset_steps: int = 0) -> str:
    with tenant_context(acme):
        return totp_now(TOTPDevice.objects.get(user__username=username), offset_steps=offset_steps)


def test_admin_resets_a_colleagues_lost_authenticator(owner, acme):
    colleague_session = portal_client(acme, "colleague")
    with tenant_context(acme):
        member = User.objects.get(username="colleague")
        backup_codes_regenerate(user=member, token=_own_code(acme, "colleague"))

    response = owner.post(
        reverse("accounts:staff_device_reset", args=[member.pk]), {"token": _own_code(acme)}
    )

    assert response.status_code == 302
    with tenant_context(acme):
        assert not TOTPDevice.objects.filter(user=member).exists()
        assert not BackupCodeDevice.objects.filter(user=member).exists()
        entry = AuditEntry.objects.filter(action=Action.DEVICE_RESET).latest("id")
        assert (entry.actor_label, entry.object_id) == ("owner", str(member.pk))
    # the colleague is logged out, and enrols again at the next log-in
    assert colleague_session.get("/").status_code == 302
    again = Client(HTTP_HOST=acme.host)
    login = again.post(reverse("accounts:login"), {"username": "colleague", "password": PASSWORD})
    assert login["Location"] == reverse("accounts:enroll")


def test_resetting_an_authenticator_needs_the_admins_own_current_code(owner, acme):
    member = _member(acme, "colleague")
    colleagues_code = _own_code(acme, "colleague")

    response = owner.post(
        reverse("accounts:staff_device_reset", args=[member.pk]), {"token": colleagues_code}
    )

    assert response.status_code == 200
    assert response.context["reset_form"].errors["token"] == [str(AUTHENTICATOR_CODE_INVALID)]
    with tenant_context(acme):
        assert TOTPDevice.objects.filter(user=member).exists()
        assert not AuditEntry.objects.filter(action=Action.DEVICE_RESET).exists()


def test_an_admin_cannot_reset_their_own_authenticator_this_way(owner, acme):
    me = _member(acme, "owner")

    response = owner.post(
        reverse("accounts:staff_device_reset", args=[me.pk]), {"token": _own_code(acme)}
    )

    assert response.status_code == 200
    assert response.context["reset_form"].non_field_errors() == [str(SELF_RESET)]
    assert "Kendi doğrulama uygulamanızı burada sıfırlayamazsınız" in (response.content.decode())
    with tenant_context(acme):
        assert TOTPDevice.objects.filter(user=me).exists()


def test_the_reset_form_is_offered_for_colleagues_only(owner, acme):
    mine = owner.get(reverse("accounts:staff_update", args=[_member(acme, "owner").pk]))
    theirs = owner.get(reverse("accounts:staff_update", args=[_member(acme, "colleague").pk]))

    assert 'id="authenticator-reset"' not in mine.content.decode()
    assert 'id="authenticator-reset"' in theirs.content.decode()


# --- Who may do it ---------------------------------------------------------------------

MEMBER_ACTIONS = [
    "staff_update",
    "staff_invitation_resend",
    "staff_invitation_revoke",
    "staff_device_reset",
]


@pytest.mark.parametrize("action", MEMBER_ACTIONS)
def test_outsider_gets_404_on_acmes_members(outsider, acme, action):
    member = _member(acme, "browser")  # a primary key that globex does not have
    with tenant_context(acme):
        before = (User.objects.filter(pk=member.pk).values()[0], TOTPDevice.objects.count())

    response = outsider.post(reverse(f"accounts:{action}", args=[member.pk]), {"token": "123456"})

    assert response.status_code == 404
    with tenant_context(acme):
        assert (User.objects.filter(pk=member.pk).values()[0], TOTPDevice.objects.count()) == before


@pytest.mark.parametrize("action", MEMBER_ACTIONS)
def test_members_who_are_not_admins_get_403(colleague, acme, action):
    member = _member(acme, "auditor")
    response = colleague.post(reverse(f"accounts:{action}", args=[member.pk]), {"token": "1"})
    assert response.status_code == 403


# --- Never without an admin -----------------------------------------------------------------


def _waiting_for_a_lock(pid: int | None) -> bool:
    if pid is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted)", [pid]
        )
        return cursor.fetchone()[0]


def test_two_admins_demoting_each_other_at_once_leave_one_admin(committed_tenant, monkeypatch):
    tenant = committed_tenant("duelco")

    def two_admins() -> tuple[int, int]:
        with tenant_context(tenant):
            User.objects.filter(username="firstadmin").update(is_active=False)
            ayla = staff_create(schema="duelco", username="ayla", role=Role.CONTROLLER_ADMIN)
            bora = staff_create(schema="duelco", username="bora", role=Role.CONTROLLER_ADMIN)
            return ayla.pk, bora.pk

    ayla, bora = in_thread(two_admins)

    # The first demotion stops after its check and its writes, before it commits.
    first_checked, release = threading.Event(), threading.Event()
    real_entry_create = services.audit_entry_create

    def entry_create_then_wait(**kwargs):
        entry = real_entry_create(**kwargs)
        if kwargs["target"].pk == bora:
            first_checked.set()
            release.wait(timeout=60)
        return entry

    monkeypatch.setattr(services, "audit_entry_create", entry_create_then_wait)
    outcomes: dict[str, str] = {}
    pids: dict[str, int] = {}

    def demote(name: str, target: int, by: int) -> None:
        def run() -> str:
            with tenant_context(tenant):
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    pids[name] = cursor.fetchone()[0]
                try:
                    staff_user_update(
                        user=User.objects.get(pk=target),
                        role=Role.REQUEST_OFFICER,
                        is_active=True,
                        changed_by=User.objects.get(pk=by),
                    )
                except PortalError as exc:
                    return str(exc.message)
                return "demoted"

        outcomes[name] = in_thread(run)

    # when: ayla demotes bora and, while that is under way, bora demotes ayla
    first = threading.Thread(target=demote, args=("first", bora, ayla))
    first.start()
    assert first_checked.wait(timeout=60)
    second = threading.Thread(target=demote, args=("second", ayla, bora))
    second.start()
    deadline = time.monotonic() + 60  # only so a broken build cannot hang the suite
    while second.is_alive() and not _waiting_for_a_lock(pids.get("second")):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    release.set()
    first.join()
    second.join()

    # then: one of them went through, the other was refused, and one admin is left
    def active_admins() -> list[str]:
        with tenant_context(tenant):
            admins = User.objects.filter(role=Role.CONTROLLER_ADMIN, is_active=True)
            return list(admins.values_list("username", flat=True))

    assert sorted(outcomes.values()) == sorted(["demoted", str(LAST_ADMIN)])
    assert in_thread(active_admins) == ["ayla"]
