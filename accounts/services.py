"""Writes about people: invitations, roles, passwords (second factors: accounts/second_factor.py).

Who may reach the personal data is an access-control measure of KVKK Art. 12(1); every
change here enters the processing log.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Invitation, Role, User
from audit.models import Action
from audit.services import audit_entry_create
from config.errors import PortalError

INVITATION_INVALID = _("This invitation link is invalid, expired or already used.")
INVITATION_ACCEPTED = _("This person has already accepted the invitation and set a password.")
NOT_INVITED = _("This person was never invited; there is no invitation to resend or revoke.")
NOTHING_TO_REVOKE = _("There is no open invitation to revoke.")
USERNAME_TAKEN = _("A user with this user name already exists.")
LAST_ADMIN = _("The workspace must keep at least one active controller admin.")
SELF_CHANGE = _("You cannot change your own role or deactivate yourself.")
CURRENT_PASSWORD_WRONG = _("Your current password is wrong.")
PASSWORD_UNCHANGED = _("The new password must differ from the current one.")


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _password_check(*, password: str, user: User, field: str) -> None:
    """Django's password validators (settings.AUTH_PASSWORD_VALIDATORS), as a field error."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise PortalError(" ".join(exc.messages), code="password", field=field) from exc


def _active_admins_lock() -> list[User]:
    """Lock every active controller admin, always in primary-key order.

    Every change that could remove an admin takes these locks before it checks, so two
    admins demoting each other at once run one after the other, and the second sees the
    first's change (no deadlock either: everybody locks in the same order).
    """
    return list(
        User.objects.select_for_update()
        .filter(role=Role.CONTROLLER_ADMIN, is_active=True)
        .order_by("pk")
    )


def _invitation_issue(*, user: User, created_by: User | None) -> tuple[Invitation, str]:
    """Issue a one-time set-password link; only its hash is stored."""
    raw = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        user=user,
        token_hash=_token_hash(raw),
        created_by=created_by,
        expires_at=timezone.now() + timedelta(hours=settings.PORTAL_INVITATION_HOURS),
    )
    return invitation, raw


def invitation_get(*, raw_token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_related("user").filter(token_hash=_token_hash(raw_token)).first()
    )
    if invitation is None or not invitation.is_usable:
        raise PortalError(INVITATION_INVALID, code="invitation_invalid")
    return invitation


@transaction.atomic
def invitation_accept(*, raw_token: str, password: str, request=None) -> User:
    """Set the invited user's password and spend the link."""
    found = invitation_get(raw_token=raw_token)
    # Locks in the order the invitation writes below take them: the user, then the link.
    user = User.objects.select_for_update().get(pk=found.user_id)
    invitation = Invitation.objects.select_for_update().get(pk=found.pk)
    if not invitation.is_usable or not user.is_active:  # resent or revoked meanwhile
        raise PortalError(INVITATION_INVALID, code="invitation_invalid")
    _password_check(password=password, user=user, field="password1")
    user.set_password(password)
    user.save(update_fields=["password"])
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_at"])
    audit_entry_create(
        action=Action.UPDATE,
        actor=user,
        target=user,
        detail={"event": "invitation_accepted"},
        request=request,
    )
    return user


@transaction.atomic
def staff_user_invite(
    *,
    username: str,
    email: str,
    first_name: str,
    last_name: str,
    role: Role,
    invited_by: User | None,
) -> tuple[User, str]:
    """Create a staff member with no password yet and an invitation link for them."""
    if User.objects.filter(username__iexact=username).exists():
        raise PortalError(USERNAME_TAKEN, code="username_taken", field="username")
    user = User(
        username=username, email=email, first_name=first_name, last_name=last_name, role=role
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    _, raw = _invitation_issue(user=user, created_by=invited_by)
    audit_entry_create(
        action=Action.PERMISSION_CHANGE,
        actor=invited_by,
        target=user,
        detail={"event": "user_invited", "role": str(role)},
    )
    return user, raw


def _pending_invitee_lock(*, user: User) -> tuple[User, list[Invitation]]:
    """Lock a member who has not accepted an invitation yet, and their unspent links."""
    user = User.objects.select_for_update().get(pk=user.pk)
    invitations = list(Invitation.objects.select_for_update().filter(user=user).order_by("pk"))
    if not invitations:
        raise PortalError(NOT_INVITED, code="not_invited")
    if any(invitation.used_at is not None for invitation in invitations):
        raise PortalError(INVITATION_ACCEPTED, code="invitation_accepted")
    return user, [invitation for invitation in invitations if invitation.revoked_at is None]


@transaction.atomic
def invitation_resend(*, user: User, resent_by: User, request=None) -> tuple[Invitation, str]:
    """A new link for a member who has not accepted yet; every older link stops working.

    Resending after a revocation lets the member in again (their account is reactivated).
    """
    user, unspent = _pending_invitee_lock(user=user)
    now = timezone.now()
    for invitation in unspent:
        invitation.revoked_at = now
        invitation.save(update_fields=["revoked_at"])
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    invitation, raw = _invitation_issue(user=user, created_by=resent_by)
    audit_entry_create(
        action=Action.PERMISSION_CHANGE,
        actor=resent_by,
        target=user,
        detail={"event": "invitation_resent", "links_revoked": len(unspent)},
        request=request,
    )
    return invitation, raw


@transaction.atomic
def invitation_revoke(*, user: User, revoked_by: User, request=None) -> User:
    """Withdraw a member's invitation: the link stops working and the account cannot log in."""
    admins = _active_admins_lock()
    user, unspent = _pending_invitee_lock(user=user)
    if not unspent:
        raise PortalError(NOTHING_TO_REVOKE, code="nothing_to_revoke")
    if user.role == Role.CONTROLLER_ADMIN and user.is_active:
        _ensure_another_admin(user=user, admins=admins)
    now = timezone.now()
    for invitation in unspent:
        invitation.revoked_at = now
        invitation.save(update_fields=["revoked_at"])
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit_entry_create(
        action=Action.PERMISSION_CHANGE,
        actor=revoked_by,
        target=user,
        detail={"event": "invitation_revoked", "links_revoked": len(unspent)},
        request=request,
    )
    return user


def _ensure_another_admin(*, user: User, admins: list[User]) -> None:
    if not any(admin.pk != user.pk for admin in admins):
        raise PortalError(LAST_ADMIN, code="last_admin")


@transaction.atomic
def staff_user_update(*, user: User, role: Role, is_active: bool, changed_by: User) -> User:
    """Change a member's role or access; the workspace never loses its last admin."""
    if user.pk == changed_by.pk and (role != user.role or not is_active):
        raise PortalError(SELF_CHANGE, code="self_change")
    admins = _active_admins_lock()
    user = User.objects.select_for_update().get(pk=user.pk)
    losing_admin = (user.role == Role.CONTROLLER_ADMIN and user.is_active) and (
        role != Role.CONTROLLER_ADMIN or not is_active
    )
    if losing_admin:
        _ensure_another_admin(user=user, admins=admins)
    before = {"role": user.role, "is_active": user.is_active}
    user.role, user.is_active = role, is_active
    user.full_clean()
    user.save(update_fields=["role", "is_active"])
    audit_entry_create(
        action=Action.PERMISSION_CHANGE,
        actor=changed_by,
        target=user,
        detail={"before": before, "after": {"role": role, "is_active": is_active}},
    )
    return user


@transaction.atomic
def password_change(*, user: User, current_password: str, new_password: str, request=None) -> User:
    """A logged-in user changes their own password (their other sessions end with it)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.check_password(current_password):
        raise PortalError(CURRENT_PASSWORD_WRONG, code="password_wrong", field="current_password")
    if new_password == current_password:
        raise PortalError(PASSWORD_UNCHANGED, code="password_unchanged", field="new_password1")
    _password_check(password=new_password, user=user, field="new_password1")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit_entry_create(action=Action.PASSWORD_CHANGED, actor=user, target=user, request=request)
    return user
