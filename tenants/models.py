"""The platform's own records, kept in the public schema.

``Tenant`` is a data controller (veri sorumlusu) served by the processor
(veri işleyen); each gets a schema of its own and a host ``<slug>.<base domain>``.
``UndertakingVersion`` and ``Undertaking`` are the processor's staff register:
the confidentiality undertakings its own people sign.
"""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

from audit.history import History
from tenants.esign_anchors import anchor_certificate_read
from tenants.validators import validate_kep_address, validate_mersis, validate_vkn

SLUG_VALIDATOR = RegexValidator(
    r"^[a-z][a-z0-9]{1,29}$",
    _("Use 2-30 lowercase letters or digits, starting with a letter."),
)


class Tenant(TenantMixin):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CONTRACT_ENDED = "contract_ended", _("Contract ended")
        DESTROYED = "destroyed", _("Destroyed")

    slug = models.CharField(_("slug"), max_length=30, unique=True, validators=[SLUG_VALIDATOR])
    legal_name = models.CharField(_("legal name"), max_length=255)
    vkn = models.CharField(
        _("tax number (VKN)"), max_length=10, blank=True, validators=[validate_vkn]
    )
    mersis_no = models.CharField(
        _("MERSIS number"), max_length=16, blank=True, validators=[validate_mersis]
    )
    verbis_no = models.CharField(_("VERBIS registration number"), max_length=40, blank=True)
    kep_address = models.CharField(
        _("KEP address"), max_length=254, blank=True, validators=[validate_kep_address]
    )
    contact_name = models.CharField(_("contact person"), max_length=150, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    contract_no = models.CharField(_("contract number"), max_length=60, blank=True)
    contract_start = models.DateField(_("contract start"), null=True, blank=True)
    contract_end = models.DateField(_("contract end"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    language = models.CharField(
        _("default language"), max_length=5, choices=settings.LANGUAGES, default="tr"
    )
    # When the contract was marked as ended (by a platform admin, or by the daily scan once
    # contract_end passed): the grace period of read-only service counts from here.
    contract_ended_at = models.DateTimeField(_("contract ended at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = History()

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        verbose_name = _("data controller")
        verbose_name_plural = _("data controllers")
        ordering = ["legal_name"]
        constraints = [
            # Every controller (all but the platform's own public row) has a valid VKN.
            models.CheckConstraint(
                condition=models.Q(schema_name="public") | models.Q(vkn__regex=r"^[0-9]{10}$"),
                name="tenant_controller_has_vkn",
            ),
            models.CheckConstraint(
                condition=models.Q(contract_end__isnull=True)
                | models.Q(contract_start__isnull=True)
                | models.Q(contract_end__gte=models.F("contract_start")),
                name="tenant_contract_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.legal_name

    def save(self, *args, **kwargs):
        # django-tenants recreates a missing schema whenever a tenant row is saved; a
        # destroyed controller's schema was dropped on purpose and must stay gone.
        if self.status == self.Status.DESTROYED:
            self.auto_create_schema = False
        super().save(*args, **kwargs)

    @property
    def is_public(self) -> bool:
        return self.schema_name == "public"

    @property
    def is_operational(self) -> bool:
        """Only active controllers are fully served and get background work done."""
        return self.status == self.Status.ACTIVE

    @property
    def is_read_only(self) -> bool:
        """In the grace period after the contract ended: served, but nothing may change."""
        return self.status == self.Status.CONTRACT_ENDED

    @property
    def is_served(self) -> bool:
        """Whether the controller's host serves its pages at all (read-only or not)."""
        return self.is_operational or self.is_read_only

    @property
    def grace_ends_at(self) -> datetime | None:
        """Until when the data is kept after the contract ended; then it is destroyed."""
        if self.contract_ended_at is None:
            return None
        return self.contract_ended_at + timedelta(days=settings.PORTAL_CONTRACT_GRACE_DAYS)

    @property
    def host(self) -> str:
        return f"{self.slug}.{settings.PORTAL_BASE_DOMAIN}"

    @property
    def base_url(self) -> str:
        port = f":{settings.PORTAL_PUBLIC_PORT}" if settings.PORTAL_PUBLIC_PORT else ""
        return f"{settings.PORTAL_SCHEME}://{self.host}{port}"


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")

    def __str__(self) -> str:
        return self.domain


class UndertakingVersion(models.Model):
    """One wording of the confidentiality undertaking (gizlilik taahhütnamesi).

    The version in force is the one with the latest ``effective_from`` that is
    not in the future; at most one version takes effect on any given day.
    """

    version = models.CharField(_("version"), max_length=30, unique=True)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"))
    effective_from = models.DateField(_("effective from"), unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = History()

    class Meta:
        verbose_name = _("confidentiality undertaking version")
        verbose_name_plural = _("confidentiality undertaking versions")
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.version} — {self.title}"


class Undertaking(models.Model):
    """A platform user's signature under one version of the undertaking.

    Signatures outlive the job: the user cannot be deleted while one exists
    (``PROTECT``), so leaving staff are deactivated and stay in the register.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="undertakings",
        verbose_name=_("user"),
    )
    version = models.ForeignKey(
        UndertakingVersion,
        on_delete=models.PROTECT,
        related_name="signatures",
        verbose_name=_("version"),
    )
    signed_at = models.DateTimeField(_("signed at"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    history = History()

    class Meta:
        verbose_name = _("signed confidentiality undertaking")
        verbose_name_plural = _("signed confidentiality undertakings")
        ordering = ["-signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "version"], name="undertaking_signed_once_per_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.version.version}"


class ContractExport(models.Model):
    """A full export of a controller's data for its return at contract end (data return).

    The ZIP is written under the controller's own media prefix, which the contract-end
    destruction removes with everything else; only its controller admins download it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="exports", verbose_name=_("controller")
    )
    # The requesting user lives in the controller's schema: kept by id and name.
    requested_by_id = models.BigIntegerField(null=True, blank=True)
    requested_by_label = models.CharField(_("requested by"), max_length=150)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    path = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField(_("size"), null=True, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("data-return export")
        verbose_name_plural = _("data-return exports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.tenant} · {self.created_at:%Y-%m-%d %H:%M}"


class DestructionCertificate(models.Model):
    """The signed record that a controller's data, keys and schema were destroyed.

    Kept in the public schema after the controller's schema is gone. ``body`` is what was
    signed (canonical JSON, see tenants.contract.certificate_message); anyone holding the
    platform's public key (/audit/signing-key.pem) can check ``signature`` against it.
    The controller's identity is copied into the certificate so it stands on its own.
    """

    tenant = models.OneToOneField(
        Tenant,
        on_delete=models.PROTECT,
        related_name="destruction_certificate",
        verbose_name=_("controller"),
    )
    legal_name = models.CharField(_("legal name"), max_length=255)
    vkn = models.CharField(_("tax number (VKN)"), max_length=10, blank=True)
    schema_name = models.CharField(_("schema"), max_length=63)
    contract_end = models.DateField(_("contract end"), null=True, blank=True)
    contract_ended_at = models.DateTimeField(_("contract ended at"))
    grace_days = models.PositiveIntegerField(_("grace period (days)"))
    counts = models.JSONField(_("counts"), default=dict)
    destroyed_at = models.DateTimeField(_("destroyed at"))
    body = models.JSONField(_("signed content"))
    signature = models.CharField(_("signature (Ed25519, hex)"), max_length=128)
    key_id = models.CharField(_("signing key id"), max_length=32)

    class Meta:
        verbose_name = _("destruction certificate")
        verbose_name_plural = _("destruction certificates")
        ordering = ["-destroyed_at"]

    def __str__(self) -> str:
        return f"{self.legal_name} · {self.destroyed_at:%Y-%m-%d}"


class ProcessorBreach(models.Model):
    """A breach on the processor's side (veri işleyen), recorded once by a platform admin.

    The processor notifies each affected controller without delay (Art. 12(5)); the
    portal does it by fanning the report out to every affected controller's portal and
    contact e-mail. ``ProcessorBreachNotification`` keeps one row per controller told,
    so saving the report again never tells anyone twice.
    """

    title = models.CharField(_("title"), max_length=200)
    occurred_at = models.DateTimeField(_("occurred at"))
    detected_at = models.DateTimeField(_("detected at (processor awareness)"))
    description = models.TextField(_("what happened"))
    data_categories = models.TextField(_("data categories"), blank=True)
    estimated_persons = models.PositiveIntegerField(_("estimated number of persons"), default=0)
    estimated_records = models.PositiveIntegerField(_("estimated number of records"), default=0)
    consequences = models.TextField(_("likely consequences"), blank=True)
    measures_taken = models.TextField(_("measures taken"), blank=True)
    measures_planned = models.TextField(_("measures planned"), blank=True)
    contact_name = models.CharField(_("contact person"), max_length=150)
    contact_email = models.EmailField(_("contact e-mail"))
    controllers = models.ManyToManyField(
        Tenant, related_name="processor_breaches", verbose_name=_("affected controllers")
    )
    controllers_notified_at = models.DateTimeField(
        _("controllers notified at"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("processor breach")
        verbose_name_plural = _("processor breaches")
        ordering = ["-detected_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(detected_at__gte=models.F("occurred_at")),
                name="processor_breach_detected_after_occurred",
                violation_error_message=_("A breach cannot be detected before it occurred."),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ProcessorBreachNotification(models.Model):
    """That one controller was told of a processor breach (queued, then delivered)."""

    breach = models.ForeignKey(
        ProcessorBreach, on_delete=models.CASCADE, related_name="notifications"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    queued_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    emailed_to = models.EmailField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["breach", "tenant"], name="processor_breach_notified_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.breach} → {self.tenant}"


ANCHOR_DUPLICATE = _("This certificate is already a trust anchor.")


class ESignTrustAnchor(models.Model):
    """A certificate authority whose e-signatures the platform accepts (güvenilir kök).

    Data subjects may prove their identity with an application signed by a secure
    electronic or mobile signature (requests.esign); the signer's chain must end at one of
    the active anchors here. Platform admins add the authorities' root or intermediate
    certificates (for Türkiye, the ones approved by the BTK for qualified certificates).
    """

    name = models.CharField(_("name"), max_length=200)
    certificate_pem = models.TextField(
        _("certificate (PEM)"),
        help_text=_("The CA certificate, from -----BEGIN CERTIFICATE----- to its END line."),
    )
    # SHA-256 of the DER certificate, hex; computed from the PEM, one row per certificate.
    fingerprint = models.CharField(
        _("SHA-256 fingerprint"), max_length=64, unique=True, blank=True, editable=False
    )
    subject = models.CharField(_("subject"), max_length=500, blank=True, editable=False)
    not_after = models.DateTimeField(_("valid until"), blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    history = History()

    class Meta:
        verbose_name = _("e-signature trust anchor")
        verbose_name_plural = _("e-signature trust anchors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        facts = anchor_certificate_read(self.certificate_pem)
        # The admin form leaves the computed fingerprint out of its unique check: do it here.
        if (
            ESignTrustAnchor.objects.exclude(pk=self.pk)
            .filter(fingerprint=facts.fingerprint)
            .exists()
        ):
            raise ValidationError({"certificate_pem": ANCHOR_DUPLICATE})
        self.fingerprint = facts.fingerprint
        self.subject = facts.subject
        self.not_after = facts.not_after
