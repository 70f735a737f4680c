"""Roles are enforced on every view, not only hidden in menus."""

import pytest
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

from accounts.models import Invitation, Role, User
from audit.models import Action, AuditEntry
from tests.conftest import portal_client

PORTAL_PAGES = [
    "dashboard",
    "requests:index",
    "subjects:index",
    "retention:index",
    "transfers:index",
    "accounts:profile",
]


@pytest.mark.parametrize("persona", ["owner", "colleague", "auditor"])
@pytest.mark.parametrize("page", PORTAL_PAGES)
def test_every_role_opens_the_portal_pages(request, persona, page):
    client = request.getfixturevalue(persona)
    assert client.get(reverse(page)).status_code == 200


@pytest.mark.parametrize("page", ["accounts:staff", "accounts:staff_invite"])
@pytest.mark.parametrize("persona", ["colleague", "auditor"])
def test_only_controller_admins_manage_staff(request, persona, page):
    client = request.getfixturevalue(persona)
    response = client.get(reverse(page))
    assert response.status_code == 403
    assert "İzin verilmiyor" in response.content.decode()


def test_request_officer_cannot_read_the_audit_trail(colleague):
    assert colleague.get(reverse("audit:entries")).status_code == 403


@pytest.mark.parametrize("persona", ["owner", "auditor"])
def test_admin_and_auditor_read_the_audit_trail(request, persona):
    assert request.getfixturevalue(persona).get(reverse("audit:entries")).status_code == 200


def test_menu_hides_what_the_role_cannot_open(colleague, owner):
    officer_page = colleague.get("/").content.decode()
    admin_page = owner.get("/").content.decode()
    assert reverse("accounts:staff") not in officer_page
    assert reverse("audit:entries") not in officer_page
    assert reverse("accounts:staff") in admin_page


def test_user_without_role_gets_403(acme):
    with tenant_context(acme):
        User.objects.filter(username="colleague").update(role="")
    client = portal_client(acme, "colleague")
    assert client.get("/").status_code == 403


def test_admin_invites_staff_who_sets_a_password_with_the_link(owner, acme):
    # when
    response = owner.post(
        reverse("accounts:staff_invite"),
        {
            "username": "ayse",
            "first_name": "Ayşe",
            "last_name": "Yılmaz",
            "email": "ayse@acme.com.tr",
            "role": Role.AUDITOR,
        },
    )
    # then
    assert response.status_code == 200
    link = response.context["link"]
    assert link.startswith(f"http://{acme.host}/accounts/invitation/")
    path = link.split(acme.host, 1)[1]

    invited = Client(HTTP_HOST=acme.host)
    weak = invited.post(path, {"password1": "123", "password2": "123"})
    assert weak.status_code == 200 and weak.context["form"].errors
    done = invited.post(
        path, {"password1": "Uzun-ve-Guclu-Parola-9", "password2": "Uzun-ve-Guclu-Parola-9"}
    )
    assert done.status_code == 302

    again = invited.get(path)
    assert again.status_code == 404  # a link works once
    login = invited.post(
        reverse("accounts:login"), {"username": "ayse", "password": "Uzun-ve-Guclu-Parola-9"}
    )
    assert login["Location"] == reverse("accounts:enroll")
    with tenant_context(acme):
        assert Invitation.objects.get(user__username="ayse").used_at is not None
        assert AuditEntry.objects.filter(
            action=Action.PERMISSION_CHANGE, object_id=str(User.objects.get(username="ayse").pk)
        ).exists()


def test_duplicate_user_name_is_refused_and_nothing_changes(owner, acme):
    with tenant_context(acme):
        before = User.objects.count()
    response = owner.post(
        reverse("accounts:staff_invite"),
        {
            "username": "colleague",
            "first_name": "X",
            "last_name": "Y",
            "email": "x@acme.com.tr",
            "role": Role.AUDITOR,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    with tenant_context(acme):
        assert User.objects.count() == before


def test_role_change_is_a_logged_permission_change(owner, acme):
    with tenant_context(acme):
        member = User.objects.get(username="colleague")

    response = owner.post(
        reverse("accounts:staff_update", args=[member.pk]),
        {"role": Role.AUDITOR, "is_active": "on"},
    )

    assert response.status_code == 302
    with tenant_context(acme):
        member.refresh_from_db()
        assert member.role == Role.AUDITOR
        entry = AuditEntry.objects.filter(
            action=Action.PERMISSION_CHANGE, object_id=str(member.pk)
        ).latest("id")
        assert entry.actor_label == "owner"
        assert entry.detail["before"]["role"] == Role.REQUEST_OFFICER


def test_admin_cannot_demote_or_deactivate_themselves(owner, acme):
    with tenant_context(acme):
        me = User.objects.get(username="owner")

    response = owner.post(reverse("accounts:staff_update", args=[me.pk]), {"role": Role.AUDITOR})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    with tenant_context(acme):
        me.refresh_from_db()
        assert (me.role, me.is_active) == (Role.CONTROLLER_ADMIN, True)


def test_service_never_removes_the_last_active_admin(acme):
    from accounts.services import LAST_ADMIN, staff_user_update
    from config.errors import PortalError

    with tenant_context(acme):
        User.objects.filter(role=Role.CONTROLLER_ADMIN).exclude(username="owner").update(
            is_active=False
        )
        system = User.objects.get(username="colleague")
        with pytest.raises(PortalError) as refused:
            staff_user_update(
                user=User.objects.get(username="owner"),
                role=Role.AUDITOR,
                is_active=True,
                changed_by=system,
            )
        assert refused.value.message == LAST_ADMIN
        assert User.objects.get(username="owner").role == Role.CONTROLLER_ADMIN
