"""People who log in.

The same table exists in every schema: platform admins are users of the public
schema, a controller's staff are users of that controller's schema, so a user
of one tenant cannot even be found on another tenant's host.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import connection, models
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin

from audit.history import History


class Role(models.TextChoices):
    """Roles of controller staff (veri sorumlusu çalışanları)."""

    CONTROLLER_ADMIN = "controller_admin", _("Controller admin")
    REQUEST_OFFICER = "request_officer", _("Request officer")
    AUDITOR = "auditor", _("Auditor / DPO")


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    history = History(excluded_fields=["password", "last_login"])

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=["", *Role.values]), name="user_role_is_known"
            ),
        ]


class Invitation(models.Model):
    """A one-time link with which a new staff member sets a password."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    history = History(excluded_fields=["token_hash"])

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.user} ({self.created_at:%Y-%m-%d})"

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class InvitationStatus(models.TextChoices):
    """Where a staff member who has not yet set a password stands (selectors.staff_list)."""

    PENDING = "pending", _("Invitation pending")
    EXPIRED = "expired", _("Invitation expired")
    REVOKED = "revoked", _("Invitation revoked")


# Names the keyed hash of backup codes: HMAC-SHA256 under a key derived from SECRET_KEY
# and this salt. Changing either makes every issued backup code useless.
BACKUP_CODE_KEY_SALT = "accounts.BackupCodeDevice.v1"


def backup_code_normalise(code: str) -> str:
    """Codes are shown as ``abcde-fghij``; case, spaces and hyphens do not matter when typed."""
    return "".join(code.split()).replace("-", "").lower()


def backup_code_hash(*, schema: str, user_id: int, code: str, secret: str | None = None) -> str:
    """The stored form of a backup code, bound to its schema and user.

    Keyed, so a copy of the database alone cannot test guesses; bound, so a hash
    copied to another user or controller matches nothing.
    """
    message = f"{schema}:{user_id}:{backup_code_normalise(code)}"
    return salted_hmac(BACKUP_CODE_KEY_SALT, message, secret=secret, algorithm="sha256").hexdigest()


class BackupCodeDevice(ThrottlingMixin, TimestampMixin, Device):
    """One-time backup codes (yedek kodlar) for a lost phone, stored only as keyed hashes."""

    class Meta:
        verbose_name = _("backup codes")
        verbose_name_plural = _("backup codes")

    def get_throttle_factor(self) -> int:
        return settings.OTP_BACKUP_CODE_THROTTLE_FACTOR

    def verify_token(self, token) -> bool:
        """Spend the matching code, comparing it with every stored hash in constant time."""
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        # Codes issued before a SECRET_KEY rotation stay valid while the old key is a fallback.
        candidates = [
            backup_code_hash(
                schema=connection.schema_name, user_id=self.user_id, code=str(token), secret=key
            )
            for key in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
        ]
        match = None
        for stored in self.codes.all():
            for candidate in candidates:
                if constant_time_compare(stored.code_hash, candidate):
                    match = stored
        # Deleting by primary key spends the code once, even for two simultaneous log-ins.
        if match is not None and BackupCode.objects.filter(pk=match.pk).delete()[0]:
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
            return True
        self.throttle_increment()
        return False


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("backup code")
        verbose_name_plural = _("backup codes")

    def __str__(self) -> str:
        return f"{self.device} #{self.pk}"
