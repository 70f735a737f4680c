"""The processing log (işleme kayıtları): an append-only, hash-chained journal per schema.

Each entry stores the hash of the one before it, so changing or removing any
entry breaks every later link. The database refuses UPDATE, DELETE and
TRUNCATE on the table (see migration 0002), so not even a bug in this code can
rewrite history. Entries never hold personal data values, only references,
so destroying a subject's data never requires touching the journal.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    CREATE = "create", _("Create")
    READ = "read", _("Read")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")
    EXPORT = "export", _("Export")
    TRANSFER = "transfer", _("Transfer")
    DESTROY = "destroy", _("Destroy")
    LOGIN = "login", _("Log-in")
    LOGOUT = "logout", _("Log-out")
    LOGIN_FAILED = "login_failed", _("Failed log-in")
    OTP_FAILED = "otp_failed", _("Failed second factor")
    DEVICE_ENROLLED = "device_enrolled", _("Second factor enrolled")
    PERMISSION_CHANGE = "permission_change", _("Permission change")
    TENANT_CHANGE = "tenant_change", _("Controller status change")


class AuditEntry(models.Model):
    seq = models.PositiveBigIntegerField(_("sequence"), unique=True)
    at = models.DateTimeField(_("time"))
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True)
    actor_label = models.CharField(_("actor"), max_length=150)
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    subject_ref = models.CharField(_("data subject"), max_length=64, blank=True)
    purpose = models.CharField(_("purpose"), max_length=255, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["action", "-seq"], name="audit_action_seq_idx"),
            models.Index(fields=["subject_ref"], name="audit_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.actor_label}"
