"""Writes about people: invitations, roles, second-factor devices."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Invitation, Role, User
from audit.models import Action
from audit.services import audit_entry_create
from config.errors import PortalError

INVITATION_INVALID = _("This invitation link is invalid, expired or already used.")
USERNAME_TAKEN = _("A user with this user name already exists.")
LAST_ADMIN = _("The workspace must keep at least one active controller admin.")
SELF_CHANGE = _("You cannot change your own role or deactivate yourself.")
TOKEN_INVALID = _("The code is not valid. Check your authenticator app's clock and try again.")


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def invitation_create(*, user: User, created_by: User | None = None) -> tuple[Invitation, str]:
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
    invitation = invitation_get(raw_token=raw_token)
    user = invitation.user
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise PortalError(" ".join(exc.messages), code="password", field="password1") from exc
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
    _, raw = invitation_create(user=user, created_by=invited_by)
    audit_entry_create(
        action=Action.PERMISSION_CHANGE,
        actor=invited_by,
        target=user,
        detail={"event": "user_invited", "role": str(role)},
    )
    return user, raw


def _active_admins_besides(user: User) -> bool:
    return (
        User.objects.filter(role=Role.CONTROLLER_ADMIN, is_active=True).exclude(pk=user.pk).exists()
    )


@transaction.atomic
def staff_user_update(*, user: User, role: Role, is_active: bool, changed_by: User) -> User:
    """Change a member's role or access; the workspace never loses its last admin."""
    if user.pk == changed_by.pk and (role != user.role or not is_active):
        raise PortalError(SELF_CHANGE, code="self_change")
    user = User.objects.select_for_update().get(pk=user.pk)
    losing_admin = user.role == Role.CONTROLLER_ADMIN and (
        role != Role.CONTROLLER_ADMIN or not is_active
    )
    if losing_admin and not _active_admins_besides(user):
        raise PortalError(LAST_ADMIN, code="last_admin")
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


def totp_device_start(*, user: User) -> TOTPDevice:
    """A fresh, unconfirmed authenticator for enrolment (older unconfirmed ones are dropped)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, token: str, request=None) -> list[str]:
    """Confirm the authenticator with a first code and issue fresh backup codes."""
    if not device.verify_token(token.strip()):
        raise PortalError(TOKEN_INVALID, code="token_invalid", field="token")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = backup_codes_regenerate(user=device.user)
    audit_entry_create(
        action=Action.DEVICE_ENROLLED, actor=device.user, target=device.user, request=request
    )
    return codes


def backup_codes_regenerate(*, user: User) -> list[str]:
    """Replace the user's one-time backup codes; the plain codes are shown once."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name="backup", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.OTP_STATIC_BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes
