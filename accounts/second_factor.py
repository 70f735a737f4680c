"""Writes about second factors: enrolment, backup codes, the log-in itself, a lost authenticator.

Two-factor log-in is a security measure of KVKK Art. 12(1). A log-in enters the
processing log once, when the second factor is verified; the password step has
its own entry (audit/receivers.py).
"""

import secrets
from base64 import b32encode

import django_otp
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import BackupCode, BackupCodeDevice, User, backup_code_hash
from audit.models import Action
from audit.services import audit_entry_create
from config.errors import PortalError

TOKEN_INVALID = _("The code is not valid. Check your authenticator app's clock and try again.")
AUTHENTICATOR_CODE_INVALID = _(
    "This is not the current code of your authenticator app. Wait for the next code and try again."
)
SELF_RESET = _(
    "You cannot reset your own authenticator here. Use a backup code to log in, or ask "
    "another controller admin."
)
NOTHING_TO_RESET = _("This person has no authenticator set up yet.")


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
    codes = _backup_codes_issue(user=device.user)
    audit_entry_create(
        action=Action.DEVICE_ENROLLED, actor=device.user, target=device.user, request=request
    )
    return codes


def second_factor_login(*, request: HttpRequest, device: Device, how: str) -> None:
    """The log-in proper: the session is bound to the verified device and the log-in logged.

    ``how`` says which second factor let the user in: "authenticator", "backup_code"
    or "enrolment".
    """
    django_otp.login(request, device)
    request.session.cycle_key()
    audit_entry_create(
        action=Action.LOGIN,
        actor=request.user,
        target=request.user,
        detail={"second_factor": how},
        request=request,
    )


def authenticator_code_check(*, user: User, token: str) -> None:
    """Recent authentication: ``token`` must be a current code of the user's authenticator.

    Runs outside any transaction of the caller's act, so django-otp's throttle and its
    record of the last code used are kept even when the act is then refused.
    """
    token = token.strip()
    devices = TOTPDevice.objects.filter(user=user, confirmed=True)
    if not any(device.verify_token(token) for device in devices):
        raise PortalError(AUTHENTICATOR_CODE_INVALID, code="token_invalid", field="token")


def _backup_codes_issue(*, user: User) -> list[str]:
    """Replace the user's backup codes; only keyed hashes are stored, the codes shown once."""
    device, _ = BackupCodeDevice.objects.get_or_create(
        user=user, name="backup", defaults={"confirmed": True}
    )
    device.codes.all().delete()
    codes = []
    for _index in range(settings.OTP_BACKUP_CODES):
        raw = b32encode(secrets.token_bytes(10)).decode().lower()[:10]  # 50 bits
        codes.append(f"{raw[:5]}-{raw[5:]}")
    BackupCode.objects.bulk_create(
        BackupCode(
            device=device,
            code_hash=backup_code_hash(schema=connection.schema_name, user_id=user.pk, code=code),
        )
        for code in codes
    )
    return codes


def backup_codes_regenerate(*, user: User, token: str, request=None) -> list[str]:
    """New backup codes for a user who proves, with a current authenticator code, it is them."""
    authenticator_code_check(user=user, token=token)
    with transaction.atomic():
        codes = _backup_codes_issue(user=user)
        audit_entry_create(
            action=Action.BACKUP_CODES_REGENERATED, actor=user, target=user, request=request
        )
    return codes


def _sessions_end(*, user: User) -> int:
    """Log the user out everywhere (database sessions of the current schema)."""
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now())
        if session.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


def staff_device_reset(*, user: User, reset_by: User, token: str, request=None) -> User:
    """A controller admin removes a colleague's lost authenticator and backup codes.

    The colleague is logged out everywhere and enrols a new authenticator at their next
    log-in. The admin confirms with a current code of their own authenticator. Nobody
    resets their own this way: a hijacked session could otherwise swap in the hijacker's
    authenticator.
    """
    if user.pk == reset_by.pk:
        raise PortalError(SELF_RESET, code="self_reset")
    device_models = list(django_otp.device_classes())
    if not any(model.objects.filter(user=user).exists() for model in device_models):
        raise PortalError(NOTHING_TO_RESET, code="nothing_to_reset")
    authenticator_code_check(user=reset_by, token=token)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        for model in device_models:
            model.objects.filter(user=user).delete()
        sessions = _sessions_end(user=user)
        audit_entry_create(
            action=Action.DEVICE_RESET,
            actor=reset_by,
            target=user,
            detail={"sessions_ended": sessions},
            request=request,
        )
    return user
