from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from config.kvkk import BREACH_BOARD_NOTICE_HOURS

# --- Breaches (veri ihlalleri), Art. 12(5) --------------------------------------------------


class Breach(models.Model):
    """A personal-data breach (kişisel veri ihlali) in the controller's register.

    ``detected_at`` is when the controller became aware of it: the 72-hour clock to the
    Board runs from there (Art. 12(5)), never from when an e-mail about it arrived.
    A breach reported by the processor carries the processor's own timeline too.
    """

    class Source(models.TextChoices):
        INTERNAL = "internal", _("Inside the controller")
        EXTERNAL = "external", _("Outside attack or third party")
        PROCESSOR = "processor", _("The processor (data processor)")
        OTHER = "other", _("Other")

    class Kind(models.TextChoices):
        CONFIDENTIALITY = (
            "confidentiality",
            _("Confidentiality (unauthorised access or disclosure)"),
        )
        INTEGRITY = "integrity", _("Integrity (unauthorised change)")
        AVAILABILITY = "availability", _("Availability (loss or destruction)")

    title = models.CharField(_("title"), max_length=200)
    occurred_at = models.DateTimeField(_("occurred at"))
    detected_at = models.DateTimeField(_("detected at (awareness)"))
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    description = models.TextField(_("what happened"), blank=True)
    categories = models.ManyToManyField(
        "subjects.DataCategory",
        blank=True,
        related_name="breaches",
        verbose_name=_("data categories"),
    )
    estimated_persons = models.PositiveIntegerField(_("estimated number of persons"))
    estimated_records = models.PositiveIntegerField(_("estimated number of records"))
    consequences = models.TextField(_("likely consequences"))
    measures_taken = models.TextField(_("measures taken"))
    measures_planned = models.TextField(_("measures planned"), blank=True)
    contact_name = models.CharField(_("contact person"), max_length=150)
    contact_email = models.EmailField(_("contact e-mail"))
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    board_notified_at = models.DateTimeField(_("Board notified at"), null=True, blank=True)
    # Hours-left marks (config.kvkk.BREACH_REMINDER_HOURS_LEFT) already reminded of.
    reminders_sent = models.JSONField(default=list, blank=True)
    # Set on breaches the processor reported (tenants.ProcessorBreach): one per report.
    processor_breach_id = models.BigIntegerField(null=True, blank=True, unique=True)
    processor_detected_at = models.DateTimeField(_("processor detected at"), null=True, blank=True)
    processor_notified_at = models.DateTimeField(
        _("processor notified the controller at"), null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("breach")
        verbose_name_plural = _("breaches")
        ordering = ["-detected_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(detected_at__gte=models.F("occurred_at")),
                name="breach_detected_after_occurred",
                violation_error_message=_("A breach cannot be detected before it occurred."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def board_deadline(self):
        return self.detected_at + timedelta(hours=BREACH_BOARD_NOTICE_HOURS)


class BreachNotice(models.Model):
    """A notice to the Board (Kurul): the first, then any follow-ups."""

    class Kind(models.TextChoices):
        FIRST = "first", _("First notice")
        FOLLOW_UP = "follow_up", _("Follow-up notice")

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    sent_at = models.DateTimeField(_("sent at"))
    content = models.TextField(_("content"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Board notice")
        verbose_name_plural = _("Board notices")
        ordering = ["sent_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["breach"],
                condition=models.Q(kind="first"),
                name="breach_one_first_notice",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.breach} · {self.get_kind_display()}"


class BreachSubjectNotice(models.Model):
    """One affected subject's notice of the breach, sent by e-mail by a worker
    (Board decision 2019/271); without an e-mail the subject is told by publication."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        UNREACHABLE = "unreachable", _("No e-mail (notify by publication)")

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="subject_notices")
    subject = models.ForeignKey(
        "subjects.DataSubject", on_delete=models.CASCADE, related_name="breach_notices"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["breach", "subject"], name="breach_subject_once"),
        ]

    def __str__(self) -> str:
        return f"{self.breach} · {self.subject_id} · {self.status}"
