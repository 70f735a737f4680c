"""Reads of the recipient register and the transfer log."""

import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from subjects.models import DataCategory, DataSubject
from transfers.business_days import (
    standard_contract_notification_deadline,
    standard_contract_notification_late,
)
from transfers.models import AbroadRoute, Recipient, SafeguardType, Transfer


def recipient_list() -> QuerySet[Recipient]:
    return Recipient.objects.all()


def notification_flag(
    recipient: Recipient, today: datetime.date | None = None
) -> dict[str, Any] | None:
    """The Art. 9(5) flag of a standard contract: its deadline, and whether it is late
    (notified after the fifth business day, or still not notified once it has passed)."""
    if not (
        recipient.is_abroad
        and recipient.route == AbroadRoute.SAFEGUARD
        and recipient.safeguard_type == SafeguardType.STANDARD_CONTRACT
        and recipient.contract_signed_on
    ):
        return None
    today = today or timezone.localdate()
    signed, notified = recipient.contract_signed_on, recipient.contract_notified_on
    return {
        "deadline": standard_contract_notification_deadline(signed),
        "notified_on": notified,
        "late": standard_contract_notification_late(
            signed_on=signed, notified_on=notified, today=today
        ),
        "pending": notified is None,
    }


def transfer_list(
    *,
    recipient_id: int | None = None,
    abroad: bool | None = None,
    legal_basis: str = "",
    source: str = "",
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> QuerySet[Transfer]:
    transfers = Transfer.objects.select_related("recipient", "purpose").prefetch_related(
        Prefetch("categories", queryset=DataCategory.objects.only("id", "name", "code"))
    )
    if recipient_id:
        transfers = transfers.filter(recipient_id=recipient_id)
    if abroad is not None:
        transfers = transfers.filter(is_abroad=abroad)
    if legal_basis:
        transfers = transfers.filter(legal_basis=legal_basis)
    if source:
        transfers = transfers.filter(source=source)
    if since:
        transfers = transfers.filter(transferred_at__date__gte=since)
    if until:
        transfers = transfers.filter(transferred_at__date__lte=until)
    return transfers


def subject_recipients(*, subject: DataSubject) -> list[dict[str, Any]]:
    """Every transfer of the subject's data: the recipient, at home or abroad, the
    categories, when, and on which basis (for the Art. 11(1)(ç) answer), oldest first."""
    transfers = (
        Transfer.objects.filter(subjects=subject)
        .select_related("recipient", "purpose")
        .prefetch_related("categories")
        .order_by("transferred_at", "id")
    )
    return [
        {
            "recipient": t.recipient,
            "recipient_name": t.recipient.name,
            "kind": t.recipient.kind,
            "country": t.country,
            "is_abroad": t.is_abroad,
            "route": t.route,
            "categories": [c.name for c in t.categories.all()],
            "category_ids": [c.pk for c in t.categories.all()],
            "transferred_at": t.transferred_at,
            "legal_basis": t.legal_basis,
            "legal_basis_label": t.get_legal_basis_display(),
            "ground": t.ground,
            "purpose": t.purpose.name if t.purpose else t.export_label,
            "source": t.source,
            "transfer": t,
        }
        for t in transfers
    ]
