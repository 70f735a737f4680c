"""Writes of the recipient register and the transfer log (KVKK Art. 8, 9; C6, C7, C8).

A transfer is recorded only on a valid basis: Art. 8(1) explicit consent of every listed
subject for the purpose, Art. 8(2)(a) with an Art. 5(2) ground, or Art. 8(2)(b) with an
Art. 6(3) ground for special categories; a recipient abroad also needs a valid Art. 9
route. Anything else is refused with the reason, nothing is saved, and the refusal is
written to the processing log.
"""

import datetime
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import Action
from audit.services import audit_entry_create
from config.errors import PortalError
from config.kvkk import LegalBasis
from subjects.models import DataCategory, DataSubject, ProcessingPurpose
from transfers.business_days import (
    standard_contract_notification_deadline,
)
from transfers.models import (
    HOME_COUNTRY,
    AbroadRoute,
    Art6Ground,
    IncidentalGround,
    Recipient,
    RecipientKind,
    SafeguardType,
    Transfer,
    TransferBasis,
)

REFUSED = "transfer_refused"

# Art. 8(2)(a): the Art. 5(2) grounds (explicit consent is Art. 8(1), Art. 6(3) is 8(2)(b)).
ART5_GROUNDS = frozenset(
    set(LegalBasis) - {LegalBasis.EXPLICIT_CONSENT, LegalBasis.SPECIAL_STATUTORY}
)

RECIPIENT_FIELDS = (
    "name",
    "kind",
    "country",
    "route",
    "adequacy_reference",
    "safeguard_type",
    "contract_signed_on",
    "contract_notified_on",
    "incidental_ground",
    "note",
)

CONTROLLER_RECIPIENT_NAME = gettext_lazy("The controller itself")


def _digest(values: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(values)).encode()).hexdigest()


# --- Recipients ---------------------------------------------------------------------------


def _recipient_clean(values: dict[str, Any]) -> dict[str, Any]:
    """Checks one recipient's fields and clears the route fields that do not apply."""
    today = timezone.localdate()
    cleaned = {field: values.get(field) for field in RECIPIENT_FIELDS}
    for field in ("name", "kind", "country", "route", "adequacy_reference", "note"):
        cleaned[field] = str(cleaned[field] or "").strip()
    for field in ("safeguard_type", "incidental_ground"):
        cleaned[field] = str(cleaned[field] or "")
    cleaned["country"] = cleaned["country"].upper()
    if not cleaned["name"]:
        raise PortalError(_("Give the recipient's name."), field="name")
    if len(cleaned["name"]) > 200:
        raise PortalError(_("The name is longer than 200 characters."), field="name")
    if cleaned["kind"] not in RecipientKind.values:
        raise PortalError(_("Choose the recipient's type."), field="kind")
    country = cleaned["country"]
    if len(country) != 2 or not ("A" <= country[0] <= "Z" and "A" <= country[1] <= "Z"):
        raise PortalError(
            _("Give the country as its two-letter ISO code (Türkiye: TR)."), field="country"
        )
    if country == HOME_COUNTRY:
        # At home no Art. 9 route applies: whatever was typed for one is dropped.
        cleaned.update(
            route="",
            adequacy_reference="",
            safeguard_type="",
            contract_signed_on=None,
            contract_notified_on=None,
            incidental_ground="",
        )
        return cleaned
    route = cleaned["route"]
    if route and route not in AbroadRoute.values:
        raise PortalError(_("Choose an Art. 9 route."), field="route")
    if route != AbroadRoute.ADEQUACY:
        cleaned["adequacy_reference"] = ""
    if route != AbroadRoute.SAFEGUARD:
        cleaned.update(safeguard_type="", contract_signed_on=None, contract_notified_on=None)
    if route != AbroadRoute.INCIDENTAL:
        cleaned["incidental_ground"] = ""
    if route == AbroadRoute.ADEQUACY and not cleaned["adequacy_reference"]:
        raise PortalError(_("Cite the adequacy decision."), field="adequacy_reference")
    if route == AbroadRoute.SAFEGUARD:
        if cleaned["safeguard_type"] not in SafeguardType.values:
            raise PortalError(_("Choose the type of safeguard."), field="safeguard_type")
        if cleaned["safeguard_type"] != SafeguardType.STANDARD_CONTRACT:
            cleaned.update(contract_signed_on=None, contract_notified_on=None)
        else:
            signed, notified = cleaned["contract_signed_on"], cleaned["contract_notified_on"]
            if not isinstance(signed, datetime.date):
                raise PortalError(
                    _("Give the date the standard contract was signed."),
                    field="contract_signed_on",
                )
            if signed > today:
                raise PortalError(
                    _("The signing date cannot be in the future."), field="contract_signed_on"
                )
            if notified is not None:
                if not isinstance(notified, datetime.date):
                    raise PortalError(_("Enter a valid date."), field="contract_notified_on")
                if notified < signed:
                    raise PortalError(
                        _("The contract cannot be notified before it was signed."),
                        field="contract_notified_on",
                    )
                if notified > today:
                    raise PortalError(
                        _("The notification date cannot be in the future."),
                        field="contract_notified_on",
                    )
    if route == AbroadRoute.INCIDENTAL and cleaned["incidental_ground"] not in (
        IncidentalGround.values
    ):
        raise PortalError(_("Choose the Art. 9(6) ground."), field="incidental_ground")
    return cleaned


def recipient_create(*, actor: Any, request: HttpRequest | None = None, **values: Any) -> Recipient:
    """Adds a recipient to the register (alıcı kaydı; Art. 9 route for one abroad)."""
    cleaned = _recipient_clean(values)
    with transaction.atomic():
        recipient = Recipient.objects.create(**cleaned)
        audit_entry_create(
            action=Action.CREATE,
            actor=actor,
            target=recipient,
            request=request,
            detail={"event": "recipient_create", "country": recipient.country},
        )
    return recipient


def recipient_update(
    *, recipient: Recipient, actor: Any, request: HttpRequest | None = None, **values: Any
) -> Recipient:
    if recipient.is_controller:
        raise PortalError(_("The controller's own entry cannot be changed."), status=409)
    cleaned = _recipient_clean(values)
    changed = sorted(f for f, v in cleaned.items() if getattr(recipient, f) != v)
    with transaction.atomic():
        for field, value in cleaned.items():
            setattr(recipient, field, value)
        recipient.save()
        audit_entry_create(
            action=Action.UPDATE,
            actor=actor,
            target=recipient,
            request=request,
            detail={"event": "recipient_update", "fields": changed},
        )
    return recipient


def controller_recipient() -> Recipient:
    """The controller itself, as the recipient of the exports it takes out of the portal."""
    recipient = Recipient.objects.filter(is_controller=True).first()
    if recipient is None:
        recipient, _created = Recipient.objects.get_or_create(
            is_controller=True,
            defaults={
                "name": str(CONTROLLER_RECIPIENT_NAME),
                "kind": RecipientKind.OTHER,
                "country": HOME_COUNTRY,
            },
        )
    return recipient


def route_problem(
    *, recipient: Recipient, today: datetime.date | None = None
) -> tuple[str, str] | None:
    """Why the recipient's Art. 9 route does not carry a transfer today, or None.

    A standard contract that is still not notified once its five business days have passed
    (Art. 9(5)) carries no transfer until it is notified; one notified late is flagged on
    the recipient list but carries transfers.
    """
    if not recipient.is_abroad:
        return None
    today = today or timezone.localdate()
    if recipient.route not in AbroadRoute.values:
        return "no_route", _(
            "The recipient is abroad (%(country)s) and has no Art. 9 route: no adequacy "
            "decision, safeguard or incidental-transfer ground is recorded."
        ) % {"country": recipient.country}
    if (
        recipient.route == AbroadRoute.SAFEGUARD
        and recipient.safeguard_type == SafeguardType.STANDARD_CONTRACT
    ):
        signed = recipient.contract_signed_on
        if signed is None or signed > today:
            return "contract_unsigned", _("The standard contract has not been signed.")
        if recipient.contract_notified_on is None and (
            today > standard_contract_notification_deadline(signed)
        ):
            return "contract_not_notified", _(
                "The standard contract signed on %(signed)s was not notified to the Authority "
                "within 5 business days (by %(deadline)s, Art. 9(5))."
            ) % {"signed": signed, "deadline": standard_contract_notification_deadline(signed)}
    return None


# --- Transfers ----------------------------------------------------------------------------


def _ids(values: Any, field: str) -> list[int]:
    try:
        ids = sorted({int(v) for v in values or ()})
    except (TypeError, ValueError):
        raise PortalError(_("The selection is not valid."), field=field) from None
    if any(i <= 0 or i > 2**62 for i in ids):
        raise PortalError(_("The selection is not valid."), field=field)
    return ids


def transfer_query_resolve(*, query: dict[str, Any]) -> list[int]:
    """The subjects a saved query names now: those of a group, and/or with data of any of
    the given categories (the register's live items)."""
    subjects = DataSubject.objects.filter(key_destroyed_at__isnull=True)
    group = query.get("group")
    category_ids = query.get("category_ids") or []
    if not group and not category_ids:
        raise PortalError(_("The saved query needs a group or a category."), field="subject_query")
    if group:
        subjects = subjects.filter(group_id=_ids([group], "subject_query")[0])
    if category_ids:
        subjects = subjects.filter(
            items__category_id__in=_ids(category_ids, "subject_query"),
            items__deleted_at__isnull=True,
        )
    return sorted(set(subjects.values_list("id", flat=True)))


def _consented(subject_ids: Sequence[int], purpose: ProcessingPurpose) -> set[int]:
    # The consent records live in the register (subjects); imported here, on use, so that
    # without them (an older register) every consent-based transfer is refused.
    try:
        from subjects.selectors import consent_valid
    except ImportError:
        return set()
    return set(consent_valid(subject_ids=list(subject_ids), purpose=purpose))


def _basis_problem(
    *,
    legal_basis: str,
    ground: str,
    subject_ids: Sequence[int],
    categories: Sequence[DataCategory],
    purpose: ProcessingPurpose,
    recipient: Recipient,
) -> tuple[str, str] | None:
    special = [c for c in categories if c.is_special]
    if legal_basis == TransferBasis.EXPLICIT_CONSENT:
        missing = set(subject_ids) - _consented(subject_ids, purpose)
        if missing:
            return "no_consent", _(
                "The basis is explicit consent, but %(count)s of the listed subjects have no "
                "valid consent for the purpose “%(purpose)s”."
            ) % {"count": len(missing), "purpose": purpose.name}
    elif legal_basis == TransferBasis.ART5_GROUND:
        if ground not in ART5_GROUNDS:
            return "no_ground", _("Art. 8(2)(a) needs one of the Art. 5(2) grounds.")
        if special:
            return "special_category", _(
                "Special categories (%(names)s) cannot be transferred on an Art. 5(2) ground: "
                "only with explicit consent or an Art. 6(3) ground."
            ) % {"names": ", ".join(c.name for c in special)}
    elif legal_basis == TransferBasis.ART6_GROUND:
        if ground not in Art6Ground.values:
            return "no_ground", _("Art. 8(2)(b) needs one of the Art. 6(3) grounds.")
        if not special:
            return "not_special", _(
                "Art. 8(2)(b) is for special categories; none of the chosen categories is one."
            )
    else:
        return "no_basis", _("Choose the legal basis of the transfer (Art. 8).")
    problem = route_problem(recipient=recipient)
    if problem:
        return problem
    if (
        recipient.is_abroad
        and recipient.route == AbroadRoute.INCIDENTAL
        and recipient.incidental_ground == IncidentalGround.EXPLICIT_CONSENT
    ):
        missing = set(subject_ids) - _consented(subject_ids, purpose)
        if missing:
            return "no_consent", _(
                "The route abroad is explicit consent (Art. 9(6)(a)), but %(count)s of the "
                "listed subjects have no valid consent for the purpose “%(purpose)s”."
            ) % {"count": len(missing), "purpose": purpose.name}
    return None


def _refuse(
    *,
    code: str,
    message: str,
    recipient: Recipient,
    legal_basis: str,
    ground: str,
    purpose: ProcessingPurpose,
    subject_uuids: Sequence[str],
    actor: Any,
    request: HttpRequest | None,
) -> None:
    # Written in the caller's transaction (none in a portal request): the refusal stays
    # in the processing log although nothing of the transfer is saved.
    audit_entry_create(
        action=Action.TRANSFER,
        actor=actor,
        target=recipient,
        request=request,
        subject_ref=subject_uuids[0] if len(subject_uuids) == 1 else "",
        purpose=purpose.code,
        detail={
            "event": "transfer_refused",
            "reason": code,
            "message": message,
            "legal_basis": legal_basis,
            "ground": ground,
            "country": recipient.country,
            "subjects": len(subject_uuids),
            "subjects_digest": _digest(subject_uuids),
        },
    )
    raise PortalError(message, code=REFUSED)


def transfer_record(
    *,
    recipient: Recipient,
    category_ids: Sequence[int],
    subject_ids: Sequence[int],
    purpose: ProcessingPurpose,
    legal_basis: str,
    ground: str = "",
    informed_at: datetime.datetime | None = None,
    actor: Any,
    request: HttpRequest | None = None,
    note: str = "",
    subject_query: dict[str, Any] | None = None,
    source: str = Transfer.Source.MANUAL,
) -> Transfer:
    """Records one transfer (aktarım) after checking its basis (Art. 8, Art. 9; C6, C8).

    ``subject_query`` (a group and/or category ids) is resolved to the subjects it names
    now and saved with the transfer, in place of ``subject_ids``. ``informed_at`` is when
    the controller was informed of or approved the transfer (C8); a controller user
    recording it is the controller, so it defaults to now. Raises PortalError (code
    "transfer_refused") when the basis is not valid, after logging the refusal.
    """
    now = timezone.now()
    if not isinstance(recipient, Recipient) or recipient.pk is None:
        raise PortalError(_("Choose a recipient."), field="recipient")
    if recipient.is_controller:
        raise PortalError(_("The controller's own entry records exports only."), field="recipient")
    if not isinstance(purpose, ProcessingPurpose) or not purpose.is_active:
        raise PortalError(_("Choose an active processing purpose."), field="purpose")
    if subject_query:
        subject_ids = transfer_query_resolve(query=subject_query)
        subject_query = {
            "group": subject_query.get("group") or None,
            "category_ids": _ids(subject_query.get("category_ids"), "subject_query"),
        }
    ids = _ids(subject_ids, "subject_ids")
    if not ids:
        raise PortalError(_("The transfer names no data subject."), field="subject_ids")
    subjects = {
        s.pk: s
        for s in DataSubject.objects.filter(pk__in=ids, key_destroyed_at__isnull=True).only(
            "id", "uuid"
        )
    }
    if len(subjects) != len(ids):
        raise PortalError(
            _("Some of the listed subjects are not in the register."), field="subject_ids"
        )
    cat_ids = _ids(category_ids, "category_ids")
    categories = list(DataCategory.objects.filter(pk__in=cat_ids))
    if not cat_ids or len(categories) != len(cat_ids):
        raise PortalError(_("Choose the data categories transferred."), field="category_ids")
    if informed_at is None:
        informed_at = now
    elif not isinstance(informed_at, datetime.datetime):
        raise PortalError(_("Enter a valid date and time."), field="informed_at")
    elif informed_at > now + datetime.timedelta(minutes=5):
        raise PortalError(
            _("The controller cannot have been informed in the future."), field="informed_at"
        )
    legal_basis = str(legal_basis or "")
    ground = str(ground or "") if legal_basis != TransferBasis.EXPLICIT_CONSENT else ""
    note = str(note or "").strip()
    uuids = [str(subjects[i].uuid) for i in ids]
    problem = _basis_problem(
        legal_basis=legal_basis,
        ground=ground,
        subject_ids=ids,
        categories=categories,
        purpose=purpose,
        recipient=recipient,
    )
    if problem:
        code, message = problem
        _refuse(
            code=code,
            message=message,
            recipient=recipient,
            legal_basis=legal_basis,
            ground=ground,
            purpose=purpose,
            subject_uuids=uuids,
            actor=actor,
            request=request,
        )
    route_detail = ""
    if recipient.is_abroad:
        route_detail = {
            AbroadRoute.ADEQUACY: recipient.adequacy_reference,
            AbroadRoute.SAFEGUARD: recipient.safeguard_type,
            AbroadRoute.INCIDENTAL: recipient.incidental_ground,
        }.get(recipient.route, "")[:40]
    return _transfer_save(
        recipient=recipient,
        categories=categories,
        subject_ids=ids,
        uuids=uuids,
        purpose=purpose,
        legal_basis=legal_basis,
        ground=ground,
        route_detail=route_detail,
        informed_at=informed_at,
        actor=actor,
        request=request,
        note=note,
        subject_query=subject_query or {},
        source=source,
        now=now,
    )


def _transfer_save(
    *,
    recipient: Recipient,
    categories: Sequence[DataCategory],
    subject_ids: Sequence[int],
    uuids: Sequence[str],
    purpose: ProcessingPurpose | None,
    legal_basis: str,
    ground: str,
    route_detail: str,
    informed_at: datetime.datetime,
    actor: Any,
    request: HttpRequest | None,
    note: str,
    subject_query: dict[str, Any],
    source: str,
    now: datetime.datetime,
    export_label: str = "",
) -> Transfer:
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    with transaction.atomic():
        transfer = Transfer.objects.create(
            recipient=recipient,
            purpose=purpose,
            export_label=export_label[:120],
            legal_basis=legal_basis,
            ground=ground,
            country=recipient.country,
            is_abroad=recipient.is_abroad,
            route=recipient.route if recipient.is_abroad else "",
            route_detail=route_detail,
            informed_at=informed_at,
            source=source,
            note=note,
            actor=actor if authenticated else None,
            actor_label=(actor.get_username() if authenticated else "system")[:150],
            subject_count=len(subject_ids),
            subject_query=subject_query,
            transferred_at=now,
        )
        transfer.categories.set(categories)
        Through = Transfer.subjects.through
        Through.objects.bulk_create(
            [Through(transfer_id=transfer.pk, datasubject_id=i) for i in subject_ids],
            batch_size=2000,
        )
        audit_entry_create(
            # An export is logged as such by the feature that hands it out; this entry
            # records where it went, as for every transfer.
            action=Action.TRANSFER,
            actor=actor,
            target=transfer,
            request=request,
            subject_ref=uuids[0] if len(uuids) == 1 else "",
            purpose=purpose.code if purpose else export_label,
            detail={
                "event": "transfer" if source != Transfer.Source.EXPORT else "export",
                "recipient": recipient.pk,
                "recipient_name": recipient.name,
                "country": recipient.country,
                "abroad": recipient.is_abroad,
                "route": transfer.route,
                "legal_basis": legal_basis,
                "ground": ground,
                "categories": sorted(c.code for c in categories),
                "subjects": len(uuids),
                "subjects_digest": _digest(uuids),
                "source": source,
            },
        )
    return transfer


def export_record(
    *,
    subject_ids: Sequence[int],
    category_ids: Sequence[int] | None = None,
    label: str,
    actor: Any,
    request: HttpRequest | None = None,
    note: str = "",
) -> Transfer | None:
    """Logs an export of personal data that leaves the portal (C6), handed to the controller
    itself (the portal's users are the controller's staff). Nothing is recorded when the
    export holds no subject.

    Call it in the transaction that reads the data, before the file is handed out.
    """
    ids = sorted({int(i) for i in subject_ids})
    if not ids:
        return None
    chunks = [ids[i : i + 10000] for i in range(0, len(ids), 10000)]
    if category_ids is None:
        category_ids = {
            pk
            for chunk in chunks
            for pk in DataCategory.objects.filter(items__subject_id__in=chunk).values_list(
                "id", flat=True
            )
        }
    categories = list(DataCategory.objects.filter(pk__in=list(category_ids)))
    found = {}
    for chunk in chunks:
        found.update(DataSubject.objects.filter(pk__in=chunk).values_list("id", "uuid"))
    ids = [i for i in ids if i in found]
    uuids = [str(found[i]) for i in ids]
    if not ids:
        return None
    recipient = controller_recipient()
    now = timezone.now()
    return _transfer_save(
        recipient=recipient,
        categories=categories,
        subject_ids=ids,
        uuids=uuids,
        purpose=None,
        legal_basis=TransferBasis.TO_CONTROLLER,
        ground="",
        route_detail="",
        informed_at=now,
        actor=actor,
        request=request,
        note=note,
        subject_query={},
        source=Transfer.Source.EXPORT,
        now=now,
        export_label=label,
    )
