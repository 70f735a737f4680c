"""Retention and destruction (saklama ve imha) of one controller: KVKK Art. 7, the
Regulation on deletion, destruction and anonymisation, commitments C2, C11, C12.

The inventory's groups, categories and purposes live in the register (subjects);
retention adds to them: a rule per data category, the controller's settings,
versions of the storage-and-destruction policy, legal holds, and the runs of the
one destruction service with their signed minutes. The ledger of destroyed ids
lives in the key database (DestroyedBatch), where data backups cannot roll it back.
"""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import History
from config.kvkk import DESTRUCTION_INTERVAL_MAX_MONTHS, DestructionMethod, RetentionEvent
from subjects.models import DataCategory, DataSubject, ProcessingPurpose


class PeriodUnit(models.TextChoices):
    DAYS = "days", _("days")
    MONTHS = "months", _("months")
    YEARS = "years", _("years")


class RetentionRule(models.Model):
    """How long one data category is kept (azami saklama süresi), from which event, and how
    it ends; with what VERBIS also asks of the category."""

    class Source(models.TextChoices):
        STATUTE = "statute", _("A statute sets the period")
        CONTROLLER = "controller", _("The controller's own choice")

    category = models.OneToOneField(
        DataCategory,
        on_delete=models.PROTECT,
        related_name="retention_rule",
        verbose_name=_("data category"),
    )
    period = models.PositiveIntegerField(_("retention period"), validators=[MinValueValidator(1)])
    period_unit = models.CharField(
        _("unit"), max_length=10, choices=PeriodUnit.choices, default=PeriodUnit.YEARS
    )
    event = models.CharField(
        _("counted from"),
        max_length=30,
        choices=RetentionEvent.choices,
        default=RetentionEvent.COLLECTED,
    )
    named_date = models.DateField(_("named date"), null=True, blank=True)
    method = models.CharField(
        _("method"),
        max_length=20,
        choices=DestructionMethod.choices,
        default=DestructionMethod.DESTROY,
    )
    source = models.CharField(_("source of the period"), max_length=20, choices=Source.choices)
    # The provision, e.g. "6102 sayılı TTK m. 82"; empty for the controller's own choice.
    legal_reference = models.CharField(_("legal reference"), max_length=255, blank=True)
    # A period the controller chose itself stays unconfirmed until someone confirms it.
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    # VERBIS: to whom the category goes, and whether abroad.
    recipient_groups = models.TextField(_("recipient groups"), blank=True)
    transferred_abroad = models.BooleanField(_("transferred abroad"), default=False)
    history = History()

    class Meta:
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        ordering = ["category__name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(event=RetentionEvent.NAMED_DATE)
                | models.Q(named_date__isnull=False),
                name="retention_named_date_given",
            ),
            models.CheckConstraint(
                condition=~models.Q(source="statute") | ~models.Q(legal_reference=""),
                name="retention_statute_is_cited",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.period} {self.get_period_unit_display()}"


class RetentionSettings(models.Model):
    """The controller's own settings for retention: one row per schema."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    interval_months = models.PositiveSmallIntegerField(
        _("periodic destruction every (months)"),
        default=DESTRUCTION_INTERVAL_MAX_MONTHS,
        validators=[MinValueValidator(1), MaxValueValidator(DESTRUCTION_INTERVAL_MAX_MONTHS)],
    )
    # Without it, a controller admin approves each dry run after re-entering a current code.
    auto_execute = models.BooleanField(_("execute scans without approval"), default=False)
    # VERBIS: the administrative and technical measures (Art. 12).
    security_measures = models.TextField(_("security measures"), blank=True)
    history = History()

    class Meta:
        verbose_name = _("retention settings")
        verbose_name_plural = _("retention settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(singleton=True), name="retention_settings_single"
            ),
            models.CheckConstraint(
                condition=models.Q(interval_months__gte=1)
                & models.Q(interval_months__lte=DESTRUCTION_INTERVAL_MAX_MONTHS),
                name="retention_interval_at_most_six_months",
            ),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class PolicyVersion(models.Model):
    """One version of the storage-and-destruction policy (saklama ve imha politikası),
    rendered from the inventory when it changed; old versions stay readable as they were."""

    number = models.PositiveIntegerField(_("version"), unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    html = models.TextField()  # the rendered page, kept as it was
    digest = models.CharField(max_length=64)  # SHA-256 of html

    class Meta:
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"v{self.number}"


class LegalHold(models.Model):
    """Data that must not be destroyed yet (hukuki saklama): for a subject, a category, or
    everything an open application or litigation refers to. Held data is never destroyed."""

    class Scope(models.TextChoices):
        SUBJECT = "subject", _("A data subject")
        CATEGORY = "category", _("A data category")
        REFERENCE = "reference", _("An application or litigation")

    scope = models.CharField(_("scope"), max_length=20, choices=Scope.choices)
    subject = models.ForeignKey(
        DataSubject, on_delete=models.PROTECT, null=True, blank=True, related_name="legal_holds"
    )
    category = models.ForeignKey(
        DataCategory, on_delete=models.PROTECT, null=True, blank=True, related_name="legal_holds"
    )
    # An application reference (BSV-2026-000123) or a court file number; holds every subject
    # linked to it (the requests app links subjects to applications).
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    reason = models.TextField(_("reason"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("owner"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ends_on = models.DateField(_("ends on"))
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    history = History()

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        scope="subject", subject__isnull=False, category__isnull=True, reference=""
                    )
                    | models.Q(
                        scope="category", category__isnull=False, subject__isnull=True, reference=""
                    )
                    | models.Q(scope="reference", subject__isnull=True, category__isnull=True)
                    & ~models.Q(reference="")
                ),
                name="legal_hold_names_what_it_holds",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} · {self.ends_on}"


class DestructionRun(models.Model):
    """One act of the destruction service: a periodic scan, an application, a register
    destruction or a contract end. A scan is shown as a dry run until it is approved."""

    class Kind(models.TextChoices):
        PERIODIC = "periodic", _("Periodic destruction")
        APPLICATION = "application", _("Data-subject application")
        REGISTER = "register", _("Destruction of a data subject")
        CONTRACT_END = "contract_end", _("End of contract")

    class Status(models.TextChoices):
        SCANNING = "scanning", _("Scanning")
        DRY_RUN = "dry_run", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    # Why, in words a reader of the minutes understands: an application reference, a request.
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    scanned_at = models.DateTimeField(_("scanned at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    executed_automatically = models.BooleanField(default=False)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Per rule, category and method: {"<category code>": {"method": ..., "rule": ..., "items":
    # n, "held": n, "subjects": n}}; filled by the scan, completed by the run.
    counts = models.JSONField(default=dict, blank=True)
    # Held items by hold: [{"hold": id, "scope": ..., "reason": ..., "items": n}]
    held = models.JSONField(default=list, blank=True)
    # A few subject references (uuids) for the reader of the dry run.
    sample = models.JSONField(default=list, blank=True)
    failure = models.TextField(blank=True)
    # The subjects an application or the register named (primary keys): each is destroyed
    # as a whole once nothing of it remains; a reference hold finds an application's
    # subjects here (retention.selectors).
    subject_ids = models.JSONField(default=list, blank=True)
    # How far the execution got: its targets are ended in ascending item id, so every target
    # up to this item id is ended and none above it. Each batch advances it in its own
    # transaction, together with its data (exactly once, resumable).
    done_through = models.BigIntegerField(default=0)
    batches = models.PositiveIntegerField(default=0)  # batches executed
    progress_at = models.DateTimeField(null=True, blank=True)  # the last batch's commit
    history = History()

    class Meta:
        verbose_name = _("destruction run")
        verbose_name_plural = _("destruction runs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d}"


class DestructionTarget(models.Model):
    """An item a run will end, fixed when the run is scanned: the run destroys exactly these,
    batch by batch in ascending item id; a target is done once the run's ``done_through``
    reached its item id (advanced in the batch's own transaction: exactly once)."""

    run = models.ForeignKey(DestructionRun, on_delete=models.CASCADE, related_name="targets")
    item_id = models.BigIntegerField()  # a PersonalDataItem, which the run removes
    subject_id = models.BigIntegerField()
    category_id = models.BigIntegerField()
    method = models.CharField(max_length=20, choices=DestructionMethod.choices)

    class Meta:
        constraints = [
            # Also the path of every batch: the next targets after the run's done_through.
            models.UniqueConstraint(fields=["run", "item_id"], name="one_target_per_item_and_run")
        ]

    def __str__(self) -> str:
        return f"item {self.item_id} of run {self.run_id}"


class DestructionMinutes(models.Model):
    """The destruction minutes (imha tutanağı) of one run: what was ended, by which rule and
    method, counts, a digest of the ids (never the data), chained to the minutes before and
    signed with the platform's Ed25519 key. Kept at least DESTRUCTION_RECORDS_MIN_YEARS."""

    run = models.OneToOneField(DestructionRun, on_delete=models.PROTECT, related_name="minutes")
    seq = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    body = models.JSONField()  # the signed content, canonical JSON of it is what is signed
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)
    key_id = models.CharField(max_length=32)
    signature = models.CharField(max_length=128)  # base64 Ed25519 signature over entry_hash
    keep_until = models.DateField()

    class Meta:
        verbose_name = _("destruction minutes")
        verbose_name_plural = _("destruction minutes")
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"#{self.seq}"


class AnonymisedFact(models.Model):
    """What is left of an anonymised item: facts that identify nobody, for statistics."""

    category = models.ForeignKey(DataCategory, on_delete=models.PROTECT, related_name="+")
    purpose = models.ForeignKey(ProcessingPurpose, on_delete=models.PROTECT, related_name="+")
    collected_year = models.PositiveSmallIntegerField()
    anonymised_at = models.DateTimeField()
    run = models.ForeignKey(DestructionRun, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("anonymised fact")
        verbose_name_plural = _("anonymised facts")

    def __str__(self) -> str:
        return f"{self.category_id}/{self.collected_year}"


class LedgerMark(models.Model):
    """How far this schema has applied the destruction ledger (one row): a restored data
    backup carries an older mark than the key database's ledger, and the portal refuses to
    serve until `manage.py destruction_replay` has caught up."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    applied_through = models.BigIntegerField(default=0)  # the last DestroyedBatch id applied

    def __str__(self) -> str:
        return f"ledger applied through {self.applied_through}"


class DestroyedBatch(models.Model):
    """The ledger of destroyed ids (key database): one row per destruction batch, holding ids
    and uuids only, never data. Data backups cannot roll it back, so a restore never brings
    destroyed data back into use (retention.ledger)."""

    schema_name = models.CharField(max_length=63)
    run_uuid = models.UUIDField()
    destroyed_at = models.DateTimeField()
    # The items the batch ended, by method.
    deleted_ids = ArrayField(models.BigIntegerField(), default=list)
    destroyed_ids = ArrayField(models.BigIntegerField(), default=list)
    anonymised_ids = ArrayField(models.BigIntegerField(), default=list)
    # The subjects it destroyed as a whole (nothing of them remained), with their uuids.
    subject_ids = ArrayField(models.BigIntegerField(), default=list)
    subject_uuids = ArrayField(models.UUIDField(), default=list)

    class Meta:
        indexes = [models.Index(fields=["schema_name", "id"], name="ledger_batch_schema_idx")]

    def __str__(self) -> str:
        return f"{self.schema_name}: batch {self.pk}"


class MinutesPurge(models.Model):
    """A purge of minutes past their keeping date (minutes_expire): the chain now starts at
    ``first_kept_seq``, whose prev_hash is ``anchor_hash``. Signed like the minutes, so the
    verifier tells a purge from records taken out of the chain. Append-only."""

    purged_at = models.DateTimeField(auto_now_add=True)
    purged_through_seq = models.PositiveIntegerField()  # the last seq removed
    records = models.PositiveIntegerField()  # how many this purge removed
    first_kept_seq = models.PositiveIntegerField()  # the next seq, written or still to come
    anchor_hash = models.CharField(max_length=64)  # entry_hash of purged_through_seq
    key_id = models.CharField(max_length=32)
    signature = models.CharField(max_length=128)

    class Meta:
        verbose_name = _("purge of destruction minutes")
        verbose_name_plural = _("purges of destruction minutes")
        ordering = ["-purged_through_seq"]
        constraints = [
            models.UniqueConstraint(fields=["purged_through_seq"], name="one_purge_per_anchor")
        ]

    def __str__(self) -> str:
        return f"≤#{self.purged_through_seq}"
