"""The personal-data register (kişisel veri kayıtları) of one controller.

The inventory part (subject groups, data categories, processing purposes) is
the minimum the register needs; the retention app adds retention rules to it.
Every personal value is stored encrypted under its subject's data key (see
subjects/crypto.py); identifiers are found through keyed hashes (blind
indexes), never through a plaintext column.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.history import History
from config.kvkk import LegalBasis, SpecialCategory


class ControllerKey(models.Model):
    """A schema's key-encryption key, wrapped by the current master secret (key database)."""

    schema_name = models.CharField(max_length=63, unique=True)
    master_key_id = models.CharField(max_length=40)
    wrapped_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"tenant key of {self.schema_name} ({self.master_key_id})"


class SubjectDataKey(models.Model):
    """A data subject's data key, wrapped by its tenant's key-wrapping key (key database).

    The key database holds nothing else, and nothing in the data database holds a key:
    deleting this row makes every copy of the subject's values undecryptable, in the data
    database, its history tables and every data backup.
    """

    schema_name = models.CharField(max_length=63)
    subject_uuid = models.UUIDField()
    wrapped_key = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["schema_name", "subject_uuid"], name="one_key_per_subject"
            )
        ]

    def __str__(self) -> str:
        return f"key of {self.schema_name}/{self.subject_uuid}"


class SubjectGroup(models.Model):
    """A group of data subjects in the inventory (ilgili kişi grubu): customers, employees…"""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    history = History()

    class Meta:
        verbose_name = _("subject group")
        verbose_name_plural = _("subject groups")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DataCategory(models.Model):
    """A category of personal data in the inventory (veri kategorisi)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    special_category = models.CharField(
        _("special category (Art. 6)"), max_length=30, choices=SpecialCategory.choices, blank=True
    )
    history = History()

    class Meta:
        verbose_name = _("data category")
        verbose_name_plural = _("data categories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_special(self) -> bool:
        return bool(self.special_category)


class ProcessingPurpose(models.Model):
    """A declared processing purpose (işleme amacı); data outside these is refused (C1)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=160)
    is_active = models.BooleanField(_("active"), default=True)
    history = History()

    class Meta:
        verbose_name = _("processing purpose")
        verbose_name_plural = _("processing purposes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DataSubject(models.Model):
    """A data subject (ilgili kişi) whose data the processor holds for the controller."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    group = models.ForeignKey(
        SubjectGroup, on_delete=models.PROTECT, related_name="subjects", verbose_name=_("group")
    )
    name_enc = models.BinaryField()
    # Destruction spans two databases (subjects.services.subject_key_destroy): it is requested
    # here first, then the key goes from the key database, then it is reported destroyed here.
    destruction_requested_at = models.DateTimeField(null=True, blank=True)
    # Set when the subject's key was destroyed: every value became unreadable (crypto-shredding).
    key_destroyed_at = models.DateTimeField(null=True, blank=True)
    # When the customer relationship ended: retention rules may count from it (Art. 7).
    relationship_ended_at = models.DateTimeField(
        _("end of the customer relationship"), null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = History()

    class Meta:
        verbose_name = _("data subject")
        verbose_name_plural = _("data subjects")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.uuid)

    @property
    def is_shredded(self) -> bool:
        """Destroyed, or on its way: nothing may be read from or added to it any more."""
        return self.key_destroyed_at is not None or self.destruction_requested_at is not None


class IdentifierKind(models.TextChoices):
    TCKN = "tckn", _("T.C. identity number")
    PASSPORT = "passport", _("Passport (nationality:number)")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    CUSTOMER_NO = "customer_no", _("Customer number")


class SubjectIdentifier(models.Model):
    """One identifier of a subject: encrypted value plus its blind index for look-ups.

    Deliberately without history: a blind index left in a history table would
    still confirm that an identifier was once held after the subject is destroyed.
    """

    # Checked per statement, not per row: see subjects/migrations/0004_set_based_references.py.
    subject = models.ForeignKey(
        DataSubject, on_delete=models.CASCADE, related_name="identifiers", db_constraint=False
    )
    kind = models.CharField(max_length=20, choices=IdentifierKind.choices)
    value_enc = models.BinaryField()
    # HMAC of kind + normalised value under the tenant's index key; unique per schema.
    blind_index = models.BinaryField(unique=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subject", "kind"], name="one_identifier_of_each_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.subject_id}"


class PersonalDataItem(models.Model):
    """One piece of personal data held for a subject (kişisel veri)."""

    # The three references are enforced by PostgreSQL once per statement instead of once
    # per row (a bulk batch inserts 10,000 items): subjects/migrations/0004_set_based_references.py.
    subject = models.ForeignKey(
        DataSubject, on_delete=models.CASCADE, related_name="items", db_constraint=False
    )
    # (category, collected_at) below serves both category look-ups and retention scans.
    category = models.ForeignKey(
        DataCategory,
        on_delete=models.PROTECT,
        related_name="items",
        verbose_name=_("category"),
        db_index=False,
        db_constraint=False,
    )
    purpose = models.ForeignKey(
        ProcessingPurpose,
        on_delete=models.PROTECT,
        related_name="items",
        verbose_name=_("purpose"),
        db_constraint=False,
    )
    legal_basis = models.CharField(_("legal basis"), max_length=20, choices=LegalBasis.choices)
    source_system = models.CharField(_("source system"), max_length=80)
    value_enc = models.BinaryField()
    collected_at = models.DateTimeField(_("collected at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Ended by the delete method (silme): kept, but unreachable for every user of the portal
    # and the API (retention.destruction); no reader returns a deleted item.
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Set when the explicit consent the item relied on (basis art5_1, same subject and purpose)
    # was withdrawn: the item is due for the retention engine from then on (Art. 7).
    consent_withdrawn_at = models.DateTimeField(_("consent withdrawn at"), null=True, blank=True)
    # History is read per item (by id) and per actor; indexes on its other foreign
    # keys would be paid on every ingested row and never used.
    history = History(no_db_index=["subject", "category", "purpose"])

    class Meta:
        verbose_name = _("personal-data item")
        verbose_name_plural = _("personal-data items")
        indexes = [
            models.Index(fields=["category", "collected_at"], name="item_category_collected_idx")
        ]

    def __str__(self) -> str:
        return f"{self.category_id} of {self.subject_id}"


class Interaction(models.Model):
    """A customer-service interaction (ticket, call, message) with a subject."""

    class Kind(models.TextChoices):
        TICKET = "ticket", _("Ticket")
        CALL = "call", _("Call")
        MESSAGE = "message", _("Message")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subject = models.ForeignKey(DataSubject, on_delete=models.CASCADE, related_name="interactions")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    purpose = models.ForeignKey(
        ProcessingPurpose, on_delete=models.PROTECT, related_name="+", verbose_name=_("purpose")
    )
    occurred_at = models.DateTimeField(_("occurred at"))
    text_enc = models.BinaryField()
    # Attachments are stored encrypted under the tenant's prefix; the name is personal data too.
    attachment_path = models.CharField(max_length=255, blank=True)
    attachment_name_enc = models.BinaryField(null=True, blank=True)
    attachment_size = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = History()

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.occurred_at:%Y-%m-%d}"


class ApiToken(models.Model):
    """A controller system's credential for the REST API; only its hash is stored."""

    class Scope(models.TextChoices):
        READ = "read", _("Read only")
        WRITE = "write", _("Read and write")

    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=12, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.WRITE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    history = History(excluded_fields=["token_hash"])

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotentWrite(models.Model):
    """An API write done under an Idempotency-Key, with the answer it got; kept a day per token.

    Stored in the write's own transaction: a write that failed leaves no key, and a retry
    with the same key and body gets the first answer instead of writing twice. Answers hold
    references and counts only, never a personal value.
    """

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and body: the same key may only ever answer the same request.
    fingerprint = models.CharField(max_length=64)
    # Filled in before the write commits: no other connection ever sees them empty.
    status = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="one_answer_per_token_and_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} of token {self.token_id}"


class CsvImport(models.Model):
    """A CSV upload into the register: previewed, confirmed, then run by a worker.

    The uploaded bytes are kept only sealed under the tenant key, and only until
    the import ends; the report keeps row numbers and messages, never values.
    """

    class Mode(models.TextChoices):
        VALID_ONLY = "valid_only", _("Import the valid rows, skip the others")
        ALL_OR_NOTHING = "all_or_nothing", _("Import all rows or nothing")

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    file_name = models.CharField(_("file"), max_length=200)
    mode = models.CharField(_("mode"), max_length=20, choices=Mode.choices, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PREVIEWED
    )
    total_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    imported_subjects = models.PositiveIntegerField(default=0)
    imported_items = models.PositiveIntegerField(default=0)
    # {"<row number>": ["column: message", ...]}
    row_errors = models.JSONField(default=dict, blank=True)
    sealed_content = models.BinaryField(null=True)
    report = models.TextField(blank=True)
    failure = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    history = History(excluded_fields=["sealed_content", "report"])

    class Meta:
        verbose_name = _("CSV import")
        verbose_name_plural = _("CSV imports")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_rows__lte=models.F("total_rows")),
                name="csv_valid_rows_within_total",
            )
        ]

    def __str__(self) -> str:
        return self.file_name

    @property
    def invalid_rows(self) -> int:
        return self.total_rows - self.valid_rows

    @property
    def percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 100

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED, self.Status.CANCELLED}


class PrivacyNotice(models.Model):
    """A version of the controller's privacy notice (aydınlatma metni, Art. 10).

    One series per controller, numbered 1, 2, 3…; a published version is never edited
    (a consent refers to the exact text shown): a change is a new version.
    """

    version = models.PositiveIntegerField(_("version"), unique=True)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"))
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    history = History()

    class Meta:
        verbose_name = _("privacy notice")
        verbose_name_plural = _("privacy notices")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class ConsentChannel(models.TextChoices):
    WEB_FORM = "web_form", _("Web form")
    PAPER = "paper", _("Paper form")
    CALL_CENTRE = "call_centre", _("Call centre")
    EMAIL = "email", _("E-mail")
    MOBILE_APP = "mobile_app", _("Mobile app")
    OTHER = "other", _("Other")


class Consent(models.Model):
    """An explicit consent (açık rıza, Art. 3, 5(1)) of a subject for one purpose.

    Valid from ``given_at`` until it is withdrawn; withdrawal takes effect at once.
    The evidence is an uploaded file (stored encrypted for the subject, like interaction
    attachments) or a reference text (a form number, a call recording id).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subject = models.ForeignKey(DataSubject, on_delete=models.CASCADE, related_name="consents")
    purpose = models.ForeignKey(
        ProcessingPurpose,
        on_delete=models.PROTECT,
        related_name="consents",
        verbose_name=_("purpose"),
    )
    notice = models.ForeignKey(
        PrivacyNotice,
        on_delete=models.PROTECT,
        related_name="consents",
        verbose_name=_("privacy notice shown"),
        null=True,
        blank=True,
    )
    channel = models.CharField(_("channel"), max_length=20, choices=ConsentChannel.choices)
    given_at = models.DateTimeField(_("given at"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    evidence_reference = models.CharField(_("evidence reference"), max_length=200, blank=True)
    evidence_path = models.CharField(max_length=255, blank=True)
    evidence_name_enc = models.BinaryField(null=True, blank=True)
    evidence_size = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = History()

    class Meta:
        verbose_name = _("explicit consent")
        verbose_name_plural = _("explicit consents")
        ordering = ["-given_at"]
        indexes = [models.Index(fields=["subject", "purpose"], name="consent_subject_purpose_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True)
                | models.Q(withdrawn_at__gte=models.F("given_at")),
                name="consent_withdrawn_after_given",
            )
        ]

    def __str__(self) -> str:
        return f"consent of {self.subject_id} for {self.purpose_id}"

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None
