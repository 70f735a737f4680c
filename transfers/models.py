"""Transfers (aktarımlar), disclosure requests, consents and breaches: KVKK Art. 8, 9, 12."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from subjects.models import DataCategory, DataSubject

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
                condition=~Q(is_binding=True) | (~Q(provision="") & ~Q(ground="")),
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
