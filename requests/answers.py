"""The generated answer to rights (a), (b), (c) and (ç) of Art. 11(1).

Whether data about the applicant is processed and which categories; for each category the
purposes, legal bases and the retention period from the controller's retention rules
(retention.RetentionRule: period, event, source and provision); and the recipients at home
and abroad from the transfer log (transfers.selectors.subject_recipients).

Nothing is disclosed before the applicant's identity is verified (``verified_check``). A
person the register does not hold, or one verified only by control of the address they
gave (the register held no contact of theirs), is told that no data is processed.
"""

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from audit.models import Action
from config.errors import PortalError
from config.kvkk import LegalBasis
from requests.models import Application, IdentityMethod
from requests.services import log, role_check
from retention.models import RetentionRule
from subjects.models import DataSubject, PersonalDataItem
from transfers.selectors import subject_recipients

NOT_VERIFIED = _(
    "The applicant's identity is not verified yet: nothing may be disclosed or changed "
    "before it is."
)


def verified_check(application: Application) -> None:
    """Refuse any disclosure or change for an application whose identity is not verified."""
    if application.identity_verified_at is None:
        raise PortalError(NOT_VERIFIED, code="not_verified", status=409)


def act_check(application: Application, actor) -> None:
    """The actor handles applications, and the applicant's identity is verified."""
    role_check(actor)
    verified_check(application)


def subject_for_answer(application: Application) -> DataSubject | None:
    """The register's subject whose data the answer may name, or None ("no data")."""
    if application.identity_method == IdentityMethod.ADDRESS_CONTROL:
        return None
    subject = application.subject
    if subject is None or subject.is_shredded:
        return None
    return subject


def _retention(rule: RetentionRule | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {
        "period": rule.period,
        "unit": rule.period_unit,
        "unit_label": str(rule.get_period_unit_display()),
        "event": rule.event,
        "event_label": str(rule.get_event_display()),
        "named_date": rule.named_date.isoformat() if rule.named_date else "",
        "source": rule.source,
        "source_label": str(rule.get_source_display()),
        "provision": rule.legal_reference,
        "method": rule.method,
        "method_label": str(rule.get_method_display()),
    }


def answer_compute(
    application: Application, *, actor=None, request=None, log_read: bool = True
) -> dict[str, Any]:
    """The content of the (a)-(ç) answer as data; the read of the subject is logged."""
    verified_check(application)
    subject = subject_for_answer(application)
    answer: dict[str, Any] = {
        "reference": application.reference,
        "computed_at": timezone.now().isoformat(),
        "processed": False,
        "categories": [],
        "purposes": [],
        "legal_bases": [],
        "recipients_home": [],
        "recipients_abroad": [],
    }
    if subject is None:
        return answer
    items = list(
        PersonalDataItem.objects.filter(subject=subject, deleted_at__isnull=True)
        .select_related("category", "purpose", "category__retention_rule")
        .order_by("category__name", "pk")
    )
    categories: dict[str, dict[str, Any]] = {}
    purposes: dict[str, str] = {}
    bases: dict[str, str] = {}
    for item in items:
        entry = categories.setdefault(
            item.category.code,
            {
                "code": item.category.code,
                "name": item.category.name,
                "special": item.category.is_special,
                "items": 0,
                "purposes": [],
                "legal_bases": [],
                "retention": _retention(getattr(item.category, "retention_rule", None)),
            },
        )
        entry["items"] += 1
        basis = str(LegalBasis(item.legal_basis).label)
        if item.purpose.name not in entry["purposes"]:
            entry["purposes"].append(item.purpose.name)
        if basis not in entry["legal_bases"]:
            entry["legal_bases"].append(basis)
        purposes[item.purpose.code] = item.purpose.name
        bases[item.legal_basis] = basis
    answer["processed"] = bool(items)
    answer["categories"] = list(categories.values())
    answer["purposes"] = sorted(purposes.values())
    answer["legal_bases"] = [bases[key] for key in sorted(bases)]
    for row in subject_recipients(subject=subject):
        if row["recipient"].is_controller:
            continue  # the controller's own exports: not a third party
        recipient = {
            "id": row["recipient"].pk,
            "name": row["recipient_name"],
            "kind": str(row["recipient"].get_kind_display()),
            "country": row["country"],
            "categories": row["categories"],
            "purpose": row["purpose"],
            "legal_basis": row["legal_basis_label"] and str(row["legal_basis_label"]),
            "transferred_on": timezone.localdate(row["transferred_at"]).isoformat(),
        }
        key = "recipients_abroad" if row["is_abroad"] else "recipients_home"
        answer[key].append(recipient)
    if log_read:
        log(
            application,
            action=Action.READ,
            event="answer_computed",
            actor=actor,
            request=request,
            categories=len(categories),
        )
    return answer


def answer_text(answer: dict[str, Any]) -> str:
    """The answer in Turkish, as plain text for the letter's body."""
    with translation.override("tr"):
        return render_to_string("requests/rights/answer_text.txt", {"answer": answer}).strip()


def recipients_of(subject: DataSubject | None) -> list:
    """The distinct third-party recipients the transfer log names for the subject."""
    if subject is None:
        return []
    seen: dict[int, Any] = {}
    for row in subject_recipients(subject=subject):
        recipient = row["recipient"]
        if not recipient.is_controller:
            seen.setdefault(recipient.pk, recipient)
    return list(seen.values())
