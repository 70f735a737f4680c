"""Data-subject applications (ilgili kişi başvuruları): KVKK Art. 11, 13 and 14; C4 and C15.

Everything the applicant typed (names, identity numbers, addresses, free text) is sealed
under the tenant key, bound to its row and column (``requests.crypto``); the tables keep
only what the work queue sorts and filters on, and blind indexes to match identifiers.
"""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from config.kvkk import ApplicationChannel, ApplicationRight, Art28Exception
from retention.models import DestructionRun
from subjects.models import DataSubject, PersonalDataItem
from transfers.models import Recipient


class ApplicationStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    IDENTITY_CHECK = "identity_check", _("Identity check")
    IN_PROGRESS = "in_progress", _("In progress")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")
    SPAM = "spam", _("Marked as spam")


# Statuses in which the 30-day clock still matters (the application awaits its answer).
OPEN_STATUSES = (
    ApplicationStatus.RECEIVED,
    ApplicationStatus.IDENTITY_CHECK,
    ApplicationStatus.IN_PROGRESS,
)


class Outcome(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    PARTLY_ACCEPTED = "partly_accepted", _("Partly accepted")
    REJECTED = "rejected", _("Rejected")


class IdentityMethod(models.TextChoices):
    EMAIL_CODE = "email_code", _("Code to an e-mail address held in the register")
    PHONE_CODE = "phone_code", _("Code to a phone number held in the register")
    ADDRESS_CONTROL = (
        "address_control",
        _("Control of the given address (person not in the register)"),
    )
    E_SIGNATURE = "e_signature", _("Validated electronic signature")
    STAFF_CHECK = "staff_check", _("Checked by staff against the signed document")


class ApplicationCounter(models.Model):
    """The last reference number given in a year: ``BSV-<year>-<number>``."""

    year = models.PositiveSmallIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Application(models.Model):
    """One application under Art. 11, from any of the six channels, and its answer."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    channel = models.CharField(_("channel"), max_length=20, choices=ApplicationChannel.choices)
    received_at = models.DateTimeField(_("received at"))
    # Thirty calendar days from receipt (Art. 13(2)), fixed at registration.
    due_on = models.DateField(_("answer due on"))
    rights = ArrayField(
        models.CharField(max_length=2, choices=ApplicationRight.choices),
        verbose_name=_("rights requested"),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.RECEIVED,
    )
    # The applicant as typed, sealed as one JSON document: first_name, last_name, tckn or
    # nationality + foreign_id, address, email, phone; and for an application on someone
    # else's behalf, the representative's name and contact.
    applicant_enc = models.BinaryField()
    details_enc = models.BinaryField()
    on_behalf = models.BooleanField(_("on behalf of someone else"), default=False)
    # Blind index of the applicant's identity number (TCKN, or nationality + passport/ID),
    # for duplicate linking, rate limits and staff search; never the number itself.
    identity_index = models.BinaryField(null=True, blank=True, db_index=True)
    # The register's subject with that identity number, if any. Nothing of it is shown to
    # the applicant before the identity is verified.
    subject = models.ForeignKey(
        DataSubject,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="applications",
        verbose_name=_("data subject"),
    )
    identity_verified_at = models.DateTimeField(_("identity verified at"), null=True, blank=True)
    identity_method = models.CharField(
        _("identity verified by"), max_length=20, choices=IdentityMethod.choices, blank=True
    )
    # Where the verification code went, masked ("a***@example.com"), for staff and letters.
    verified_destination = models.CharField(max_length=200, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_applications",
        verbose_name=_("assigned to"),
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Staff who registered an application from another channel; empty for the web form.",
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    outcome_reasons = models.TextField(_("reasons"), blank=True)
    art28_exception = models.CharField(
        _("Art. 28(2) exception"), max_length=2, choices=Art28Exception.choices, blank=True
    )
    # Right (e): the retention engine's on-demand run that ended the data (with minutes).
    deletion_run = models.ForeignKey(
        DestructionRun, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Fees (Communiqué Art. 7): pages of the answer and the medium's cost, in kuruş.
    answer_pages = models.PositiveIntegerField(_("pages of the answer"), default=0)
    medium_cost_kurus = models.PositiveIntegerField(_("cost of the medium (kuruş)"), default=0)
    fee_kurus = models.PositiveIntegerField(_("fee (kuruş)"), default=0)
    controller_error = models.BooleanField(
        _("the application arose from the controller's error"), default=False
    )
    fee_refunded_at = models.DateTimeField(_("fee refunded at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["applicant_enc", "details_enc", "identity_index"])

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["status", "due_on", "id"], name="application_queue_idx"),
            # The queue's order across several statuses (open, all): keyset pages walk it.
            models.Index(fields=["due_on", "id"], name="application_due_idx"),
            # An officer's applications across statuses, in the queue's order.
            models.Index(fields=["assignee", "due_on", "id"], name="application_officer_due_idx"),
            models.Index(fields=["assignee", "status", "due_on"], name="application_assignee_idx"),
            models.Index(fields=["channel", "due_on"], name="application_channel_idx"),
            models.Index(fields=["-received_at"], name="application_received_idx"),
            GinIndex(fields=["rights"], name="application_rights_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rights__len__gte=1), name="application_names_a_right"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["answered", "closed"])
                | ~Q(outcome="")
                | Q(status="closed", answered_at__isnull=True),
                name="application_answer_has_outcome",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="rejected") | ~Q(outcome_reasons=""),
                name="application_rejection_has_reasons",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class ApplicationCode(models.Model):
    """A one-time code sent to the applicant: to verify identity, or to follow the application.

    Only its hash is kept. It lasts ``APPLICATION_CODE_MINUTES`` and allows
    ``APPLICATION_CODE_ATTEMPTS`` tries.
    """

    class Purpose(models.TextChoices):
        VERIFY = "verify", _("Identity verification")
        FOLLOW = "follow", _("Following the application")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="codes")
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    code_hash = models.CharField(max_length=128)
    # "email" or "phone"; and the destination, masked.
    medium = models.CharField(max_length=10)
    destination = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    # A follow code gives one download of each released file.
    downloads_used = ArrayField(models.CharField(max_length=40), default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["application", "purpose", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.application} {self.purpose} {self.destination}"


class ApplicationDocument(models.Model):
    """A file of an application, sealed at rest under a random name; never at a guessable URL."""

    class Kind(models.TextChoices):
        ATTACHMENT = "attachment", _("Supporting document")
        POWER_OF_ATTORNEY = "power_of_attorney", _("Power of attorney")
        SCAN = "scan", _("Scan of the application")
        SIGNED = "signed", _("Electronically signed application")
        APPLICANT_REPLY = "applicant_reply", _("Document added by the applicant")
        OUTCOME = "outcome", _("Outcome document")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    path = models.CharField(max_length=255)
    name_enc = models.BinaryField()
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["name_enc"])

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.application} {self.get_kind_display()}"


class ApplicationNote(models.Model):
    """An internal note of staff; never shown to the applicant."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text_enc = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["text_enc"])

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.application} {self.created_at:%Y-%m-%d %H:%M}"


class ApplicationMessage(models.Model):
    """A question of staff to the applicant, or the applicant's reply. The clock runs on."""

    class Direction(models.TextChoices):
        TO_APPLICANT = "to_applicant", _("Question to the applicant")
        FROM_APPLICANT = "from_applicant", _("Reply of the applicant")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=20, choices=Direction.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    text_enc = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["text_enc"])

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.application} {self.get_direction_display()}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being prepared")
    READY = "ready", _("Ready for review")
    RELEASED = "released", _("Released to the applicant")
    FAILED = "failed", _("Failed")


class AccessPackage(models.Model):
    """The subject's complete data (JSON, CSV, PDF) and the processing acts about them.

    Built by a worker; staff review it, redact third parties' data, and release it.
    """

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="packages")
    status = models.CharField(
        _("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    # The package's content as sealed JSON (before rendering to files), and the files.
    content_enc = models.BinaryField(null=True, blank=True)
    files = models.JSONField(default=dict, blank=True)
    # Each redaction: {"path": ..., "reason": ..., "by": user id, "at": iso time}.
    redactions = models.JSONField(default=list, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    built_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    failure = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    history = HistoricalRecords(excluded_fields=["content_enc"])

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.application} {self.get_status_display()}"


class LetterTemplate(models.Model):
    """The controller's editable text for one kind of answer letter (Turkish)."""

    class Kind(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        PARTLY_ACCEPTED = "partly_accepted", _("Partly accepted")
        REJECTED = "rejected", _("Rejected")
        NOT_PROCESSED = "not_processed", _("No data is processed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, unique=True)
    subject_line = models.CharField(_("subject line"), max_length=200)
    body = models.TextField(_("body"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return str(self.get_kind_display())


class Letterhead(models.Model):
    """The controller's letterhead on answer letters (one row per controller)."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    name = models.CharField(_("controller's title"), max_length=200)
    address = models.TextField(_("address"), blank=True)
    mersis = models.CharField(_("MERSIS number"), max_length=16, blank=True)
    kep = models.EmailField(_("KEP address"), blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    signatory = models.CharField(_("signed by"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return self.name


class AnswerLetter(models.Model):
    """The answer to an application, rendered to a Turkish PDF by a worker."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="letters")
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    body_enc = models.BinaryField()
    status = models.CharField(
        _("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    path = models.CharField(max_length=255, blank=True)
    pages = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    rendered_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    failure = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    history = HistoricalRecords(excluded_fields=["body_enc"])

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.application} {self.get_outcome_display()}"


class RecipientNotice(models.Model):
    """Right (f): a recipient told of a correction or deletion, and its acknowledgement."""

    class Kind(models.TextChoices):
        CORRECTION = "correction", _("Correction")
        DELETION = "deletion", _("Deletion")

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="recipient_notices"
    )
    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledgement = models.CharField(_("acknowledgement"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application", "recipient", "kind"], name="recipient_notice_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application} {self.recipient} {self.get_kind_display()}"


class ApplicationCorrection(models.Model):
    """Right (d): an item corrected for an application (which field; never the values)."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="corrections"
    )
    # Without a database constraint: the retention engine ends items set-based in SQL, and a
    # corrected item may be destroyed later (the category stays here to say what it was).
    item = models.ForeignKey(
        PersonalDataItem,
        on_delete=models.DO_NOTHING,
        null=True,
        related_name="+",
        db_constraint=False,
    )
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    corrected_at = models.DateTimeField(auto_now_add=True)
    category = models.CharField(max_length=120)

    def __str__(self) -> str:
        return f"{self.application} {self.category}"


class ReminderSent(models.Model):
    """A deadline reminder already sent, so each goes once (7, 3, 1 days left)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    days_left = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application", "days_left"], name="application_reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application} {self.days_left}"
