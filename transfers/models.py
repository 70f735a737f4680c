"""Transfers (aktarımlar), disclosure requests, consents and breaches: KVKK Art. 8, 9, 12."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config.kvkk import BREACH_BOARD_NOTICE_HOURS, LegalBasis
from subjects.models import DataCategory, DataSubject, ProcessingPurpose

# --- Recipients and the transfer log (KVKK Art. 8, 9; commitments C6, C7, C8) -----------------

HOME_COUNTRY = "TR"  # Türkiye, ISO 3166-1 alpha-2: a recipient elsewhere is abroad (Art. 9)


class RecipientKind(models.TextChoices):
    SUB_PROCESSOR = "sub_processor", _("Sub-processor")
    GROUP_COMPANY = "group_company", _("Group company")
    SUPPLIER = "supplier", _("Supplier")
    PUBLIC_AUTHORITY = "public_authority", _("Public authority")
    OTHER = "other", _("Other")


class AbroadRoute(models.TextChoices):
    """The three routes of Art. 9 for a transfer abroad (yurt dışına aktarım)."""

    ADEQUACY = "adequacy", _("Adequacy decision (Art. 9(1))")
    SAFEGUARD = "safeguard", _("Appropriate safeguard (Art. 9(4))")
    INCIDENTAL = "incidental", _("Incidental transfer (Art. 9(6))")


class SafeguardType(models.TextChoices):
    """Art. 9(4): the appropriate safeguards (uygun güvenceler)."""

    STANDARD_CONTRACT = "standard_contract", _("Standard contract")
    BINDING_CORPORATE_RULES = "bcr", _("Binding corporate rules")
    UNDERTAKING = "undertaking", _("Written undertaking approved by the Board")


class IncidentalGround(models.TextChoices):
    """Art. 9(6): the grounds of an incidental transfer (arızi aktarım)."""

    EXPLICIT_CONSENT = "a", _("(a) Explicit consent, after being informed of the risks")
    CONTRACT_WITH_SUBJECT = "b", _("(b) Contract with the data subject")
    CONTRACT_FOR_SUBJECT = "c", _("(c) Contract in the data subject's interest")
    PUBLIC_INTEREST = "c2", _("(ç) Overriding public interest")
    RIGHT = "d", _("(d) Establishing, exercising or protecting a right")
    VITAL_INTEREST = "e", _("(e) Vital interest where consent is impossible")
    PUBLIC_REGISTER = "f", _("(f) From a register open to the public")


class Recipient(models.Model):
    """A recipient (alıcı) of personal data, at home or abroad (KVKK Art. 8, 9; C7)."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=RecipientKind.choices)
    country = models.CharField(_("country (ISO 3166 alpha-2)"), max_length=2)
    route = models.CharField(
        _("Art. 9 route"), max_length=12, choices=AbroadRoute.choices, blank=True
    )
    adequacy_reference = models.CharField(_("adequacy decision"), max_length=200, blank=True)
    safeguard_type = models.CharField(
        _("safeguard"), max_length=20, choices=SafeguardType.choices, blank=True
    )
    contract_signed_on = models.DateField(_("standard contract signed on"), null=True, blank=True)
    contract_notified_on = models.DateField(
        _("standard contract notified to the Authority on"), null=True, blank=True
    )
    incidental_ground = models.CharField(
        _("incidental-transfer ground"), max_length=2, choices=IncidentalGround.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    # The controller itself, as the recipient of its own exports (one per schema).
    is_controller = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(country__regex=r"^[A-Z]{2}$"), name="recipient_country_alpha2"
            ),
            models.UniqueConstraint(
                fields=["is_controller"],
                condition=Q(is_controller=True),
                name="one_controller_recipient",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_abroad(self) -> bool:
        return self.country != HOME_COUNTRY


class TransferBasis(models.TextChoices):
    """Art. 8: the conditions of a transfer (aktarım şartları)."""

    EXPLICIT_CONSENT = "art8_1", _("Explicit consent (Art. 8(1))")
    ART5_GROUND = "art8_2_a", _("An Art. 5(2) ground (Art. 8(2)(a))")
    ART6_GROUND = "art8_2_b", _("An Art. 6(3) ground (Art. 8(2)(b))")
    # An export handed to the controller itself: the processor returns the controller's own
    # data, which is no transfer to a third party (Art. 8 does not apply), yet it is logged.
    TO_CONTROLLER = "controller", _("To the controller itself (no third party)")


class Art6Ground(models.TextChoices):
    """Art. 6(3) as amended in 2024: grounds for special categories other than consent."""

    LAW = "art6_3_b", _("Expressly provided by law (Art. 6(3)(b))")
    VITAL_INTEREST = "art6_3_c", _("Vital interest where consent is impossible (Art. 6(3)(c))")
    MADE_PUBLIC = "art6_3_c2", _("Made public by the data subject (Art. 6(3)(ç))")
    RIGHT = "art6_3_d", _("Establishing, exercising or protecting a right (Art. 6(3)(d))")
    HEALTH = "art6_3_e", _("Public health and medical care under confidentiality (Art. 6(3)(e))")
    EMPLOYMENT = "art6_3_f", _("Employment, social security or social aid duties (Art. 6(3)(f))")
    MEMBERS = "art6_3_g", _("Foundations, associations and unions, for members (Art. 6(3)(g))")


class Transfer(models.Model):
    """One transfer (aktarım) of personal data to a recipient, with its legal basis (C6, C8).

    The recipient's country and Art. 9 route are copied at the time of the transfer: a later
    change of the register does not change what the transfer relied on.
    """

    class Source(models.TextChoices):
        MANUAL = "manual", _("Recorded by staff")
        EXPORT = "export", _("Export from the portal")
        DISCLOSURE = "disclosure", _("Disclosure request")

    recipient = models.ForeignKey(
        Recipient, on_delete=models.PROTECT, related_name="transfers", verbose_name=_("recipient")
    )
    categories = models.ManyToManyField(
        DataCategory, related_name="transfers", verbose_name=_("data categories")
    )
    subjects = models.ManyToManyField(
        DataSubject, related_name="transfers", verbose_name=_("data subjects")
    )
    # A saved query ({"group": id, "category_ids": [...]}) the subjects were resolved from.
    subject_query = models.JSONField(_("saved query"), default=dict, blank=True)
    # Empty only for an export to the controller, which serves no single declared purpose.
    purpose = models.ForeignKey(
        ProcessingPurpose,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("purpose"),
    )
    export_label = models.CharField(_("export"), max_length=120, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=10, choices=TransferBasis.choices)
    ground = models.CharField(_("ground"), max_length=12, blank=True)
    country = models.CharField(_("country"), max_length=2)
    is_abroad = models.BooleanField(_("abroad"))
    route = models.CharField(
        _("Art. 9 route"), max_length=12, choices=AbroadRoute.choices, blank=True
    )
    route_detail = models.CharField(_("route detail"), max_length=40, blank=True)
    informed_at = models.DateTimeField(_("controller informed or approved at"))
    source = models.CharField(
        _("source"), max_length=12, choices=Source.choices, default=Source.MANUAL
    )
    note = models.TextField(_("note"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("made by"),
    )
    actor_label = models.CharField(_("made by"), max_length=150)
    subject_count = models.PositiveIntegerField(_("subjects"), default=0)
    transferred_at = models.DateTimeField(_("transferred at"), db_index=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-transferred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.recipient} {self.transferred_at:%Y-%m-%d}"

    @property
    def ground_label(self) -> str:
        for choices in (LegalBasis, Art6Ground):
            if self.ground in choices.values:
                return str(choices(self.ground).label)
        return self.ground


# --- Disclosure-request desk (C9) ------------------------------------------------------


class RequesterKind(models.TextChoices):
    COURT = "court", _("Court")
    MINISTRY = "ministry", _("Ministry or other public body")
    POLICE = "police", _("Police")
    PROSECUTOR = "prosecutor", _("Public prosecutor")
    COMPANY = "company", _("Another company")
    LAWYER = "lawyer", _("Lawyer")
    OTHER = "other", _("Other")


class DisclosureStatus(models.TextChoices):
    RECEIVED = "received", _("Received, not classified")
    BINDING = "binding", _("Binding, awaiting authorisation")
    REJECTED = "rejected", _("Not binding, rejected")
    AUTHORISED = "authorised", _("Authorised")
    DISCLOSED = "disclosed", _("Disclosed")


class DisclosureGround(models.TextChoices):
    LAW = "art5_2_a", _("Expressly provided by law (Art. 5(2)(a))")
    LEGAL_OBLIGATION = "art5_2_c2", _("Legal obligation of the controller (Art. 5(2)(ç))")


class DisclosureRequest(models.Model):
    """A third party's request for personal data (bilgi/belge talebi), commitment C9.

    Only a request staff classify as legally binding, with the provision that binds the
    controller, may be disclosed, and only after two different controller admins
    authorise it. Any other request is rejected with a letter and nothing leaves.
    """

    requester_name = models.CharField(_("requester"), max_length=200)
    requester_kind = models.CharField(
        _("kind of requester"), max_length=20, choices=RequesterKind.choices
    )
    instrument = models.CharField(
        _("legal instrument cited"),
        max_length=500,
        help_text=_("The letter's reference and the law, decision or order it relies on."),
    )
    subjects = models.ManyToManyField(
        DataSubject, related_name="disclosure_requests", verbose_name=_("data subjects")
    )
    categories = models.ManyToManyField(
        DataCategory, related_name="disclosure_requests", verbose_name=_("data categories")
    )
    period_start = models.DateField(_("period from"), null=True, blank=True)
    period_end = models.DateField(_("period until"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=DisclosureStatus.choices,
        default=DisclosureStatus.RECEIVED,
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(auto_now_add=True)
    # The classification: binding (with the provision that obliges the controller) or not.
    is_binding = models.BooleanField(_("legally binding"), null=True, blank=True)
    provision = models.CharField(_("binding provision"), max_length=300, blank=True)
    # The Art. 5(2) ground behind the Art. 8(2)(a) transfer: (a) law, or (ç) legal obligation.
    ground = models.CharField(
        _("ground (Art. 5(2))"), max_length=20, choices=DisclosureGround.choices, blank=True
    )
    # The declared processing purpose the disclosure serves (the transfer log needs one),
    # e.g. "informing authorised persons and bodies" in the controller's inventory.
    purpose = models.ForeignKey(
        ProcessingPurpose,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("purpose"),
    )
    classification_note = models.TextField(_("note on the classification"), blank=True)
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    classified_at = models.DateTimeField(null=True, blank=True)
    disclosed_at = models.DateTimeField(null=True, blank=True)
    disclosed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("disclosure request")
        verbose_name_plural = _("disclosure requests")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(is_binding=True)
                | (~Q(provision="") & ~Q(ground="") & Q(purpose__isnull=False)),
                name="disclosure_binding_cites_provision",
            ),
            models.CheckConstraint(
                condition=Q(status="received", is_binding__isnull=True)
                | Q(status="rejected", is_binding=False)
                | Q(status__in=["binding", "authorised", "disclosed"], is_binding=True),
                name="disclosure_status_follows_classification",
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_start__lte=models.F("period_end")),
                name="disclosure_period_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.requester_name}"


class DisclosureAuthorisation(models.Model):
    """One controller admin's authorisation of a binding disclosure (two are needed)."""

    disclosure = models.ForeignKey(
        DisclosureRequest, on_delete=models.CASCADE, related_name="authorisations"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("disclosure authorisation")
        verbose_name_plural = _("disclosure authorisations")
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["disclosure", "user"], name="disclosure_authorised_once_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.disclosure_id} by {self.user_id}"


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
