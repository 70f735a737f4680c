"""The processing log (işleme kayıtları): an append-only, hash-chained journal per schema.

An entry is written in the transaction of the act it records, so it exists
exactly when the act does. Right after that transaction commits, the entry is
linked into the schema's chain: its ChainLink holds its sequence number, the
hash of the link before and a hash over its own content, so changing or
removing any entry breaks every later link. Linking takes the per-schema lock
only for that short step, never for a whole business transaction.

The runtime database role may only INSERT and SELECT entries and links (and
the database refuses UPDATE, DELETE and TRUNCATE on both, see migrations); it
may delete from the queue of entries awaiting their link. Entries never hold
personal data values, only references, so destroying a subject's data never
requires touching the journal.
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
    PASSWORD_ACCEPTED = "password_accepted", _("Password accepted")
    LOGIN = "login", _("Log-in")
    LOGOUT = "logout", _("Log-out")
    LOGIN_FAILED = "login_failed", _("Failed log-in")
    OTP_FAILED = "otp_failed", _("Failed second factor")
    DEVICE_ENROLLED = "device_enrolled", _("Second factor enrolled")
    DEVICE_RESET = "device_reset", _("Second factor reset")
    BACKUP_CODES_REGENERATED = "backup_codes_regenerated", _("Backup codes regenerated")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    PERMISSION_CHANGE = "permission_change", _("Permission change")
    TENANT_CHANGE = "tenant_change", _("Controller status change")
    INTEGRITY_ERROR = "integrity_error", _("Integrity check failed")


class AuditEntry(models.Model):
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

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["action", "-id"], name="audit_action_id_idx"),
            models.Index(fields=["subject_ref"], name="audit_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.actor_label}"


class ChainLink(models.Model):
    """An entry's place in its schema's chain, appended right after the entry's transaction."""

    seq = models.PositiveBigIntegerField(_("sequence"), unique=True)
    entry = models.OneToOneField(
        AuditEntry, on_delete=models.PROTECT, related_name="link", verbose_name=_("audit entry")
    )
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("chain link")
        verbose_name_plural = _("chain links")
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq}"


class UnlinkedEntry(models.Model):
    """The queue of committed entries still waiting for their ChainLink (usually for milliseconds)."""

    entry = models.OneToOneField(
        AuditEntry, on_delete=models.PROTECT, primary_key=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"entry {self.entry_id} awaiting its link"


class Checkpoint(models.Model):
    """A chain head signed with the platform's key: who rebuilds a chain cannot re-sign it.

    Lives in the public schema only (config/routers.py), one row per signature, for
    every controller; insert-only for the runtime role, like the log itself. Each is
    also a line of settings.AUDIT_CHECKPOINT_LOG, a copy outside the database.
    """

    schema_name = models.CharField(_("schema"), max_length=63)
    seq = models.PositiveBigIntegerField(_("sequence"))  # 0: an empty chain
    entry_hash = models.CharField(_("entry hash"), max_length=64)
    signed_at = models.DateTimeField(_("signed at"))
    taken_by = models.CharField(_("taken by"), max_length=150)
    key_id = models.CharField(_("key"), max_length=16)
    signature = models.CharField(_("signature"), max_length=128)

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["-id"]
        indexes = [models.Index(fields=["schema_name", "-seq"], name="audit_checkpoint_head_idx")]

    def __str__(self) -> str:
        return f"{self.schema_name} #{self.seq} {self.signed_at:%Y-%m-%d %H:%M}"
