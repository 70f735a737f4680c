"""The disclosure-request desk (bilgi/belge talepleri), commitment C9.

A third party (a court, a ministry, the police, another company, a lawyer) asks for
personal data. Staff register the request and classify it. Only a request that binds
the controller by law may be answered: KVKK Art. 8(2)(a) allows the transfer without
consent when one of the Art. 5(2) grounds applies, here (a) "expressly provided by law"
or (ç) "necessary for the controller to fulfil its legal obligation". Anything else is
rejected with a letter and nothing is disclosed. A binding request is disclosed only
after two different controller admins authorise it, each with a current authenticator
code (Art. 12(1): technical and organisational measures). The export is recorded as a
transfer to the requester and, subject by subject, in the processing log. Special
categories in scope travel on Art. 8(2)(b) with the Art. 6(3)(b) ground (expressly
provided by law) instead, as Art. 5(2) grounds do not reach them.
"""

import csv
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from accounts.second_factor import authenticator_code_check
from audit.models import Action
from audit.services import audit_entry_create
from config.errors import PortalError
from config.pdf import html_to_pdf
from subjects.models import DataCategory, DataSubject, ProcessingPurpose
from subjects.selectors import subject_decrypt, subject_lookup
from transfers.models import (
    HOME_COUNTRY,
    Art6Ground,
    DisclosureAuthorisation,
    DisclosureGround,
    DisclosureRequest,
    DisclosureStatus,
    Recipient,
    RecipientKind,
    RequesterKind,
    Transfer,
    TransferBasis,
)
from transfers.services import recipient_create, transfer_record

# Two different controller admins authorise a disclosure before anything leaves (C9).
AUTHORISATIONS_REQUIRED = 2
# Only controller admins authorise and export: the commitment asks for the controller's
# authorisation, and officers (who register and classify) act for it day to day.
AUTHORISERS = (Role.CONTROLLER_ADMIN,)
CLASSIFIERS = (Role.CONTROLLER_ADMIN, Role.REQUEST_OFFICER)
# The purpose the processing log gives every act of the desk.
DISCLOSURE_PURPOSE = "disclosure_request"
# Recipients of the transfer log: public bodies are public authorities, the rest "other".
PUBLIC_REQUESTERS = {
    RequesterKind.COURT,
    RequesterKind.MINISTRY,
    RequesterKind.POLICE,
    RequesterKind.PROSECUTOR,
}

NOT_ALLOWED = _("Your role may not do this.")
NOT_RECEIVED = _("This request has already been classified.")
NOT_BINDING = _("Only a request classified as legally binding and not rejected can be authorised.")
ALREADY_AUTHORISED = _("You have already authorised this request. A second person must do it.")
NOT_AUTHORISED = _("Two different controller admins must authorise the request before any export.")
NOTHING_IN_SCOPE = _(
    "None of the data asked for is held (any more) for these subjects, categories and period: "
    "there is nothing to export."
)
REJECTED_NEVER = _("This request was rejected: nothing is ever disclosed for it.")
NOT_AN_AUTHORISER = _("Only a controller admin who authorised this request may export its data.")
PROVISION_MISSING = _("Name the provision that obliges the controller to disclose.")
PURPOSE_MISSING = _("Choose the declared processing purpose the disclosure serves.")
GROUND_MISSING = _("Choose the Art. 5(2) ground of the disclosure.")
UNKNOWN_IDENTIFIER = _("No data subject is held with this identifier: %(value)s")
NO_SUBJECTS = _("Name at least one data subject.")
NO_CATEGORIES = _("Choose at least one data category.")
PERIOD_ORDER = _("The end of the period is before its start.")
IN_FUTURE = _("A request cannot be received in the future.")
NOT_REJECTED = _("A letter is only written for a rejected request.")


def _role_check(user: User, roles) -> None:
    if not (user.is_authenticated and user.is_active and user.role in roles):
        raise PortalError(NOT_ALLOWED, code="forbidden", status=403)


def _locked(disclosure: DisclosureRequest) -> DisclosureRequest:
    return DisclosureRequest.objects.select_for_update().get(pk=disclosure.pk)


def _log(*, action, actor, disclosure, event: str, request=None, **detail) -> None:
    audit_entry_create(
        action=action,
        actor=actor,
        target=disclosure,
        purpose=DISCLOSURE_PURPOSE,
        detail={"event": event, "disclosure": disclosure.pk, **detail},
        request=request,
    )


def subjects_identified(*, identifiers: Iterable[str], actor=None, request=None) -> list[int]:
    """The subjects the requester names, found by their identifiers (one look-up each, logged).

    Every identifier must find someone: staff learn at once that a person asked for is not
    held, rather than the export silently covering fewer people than the request named.
    """
    found: list[int] = []
    for value in identifiers:
        matches = subject_lookup(value=value, actor=actor, request=request)
        if not matches:
            raise PortalError(UNKNOWN_IDENTIFIER % {"value": value}, field="identifiers")
        found.extend(match.subject.pk for match in matches if not match.subject.is_shredded)
    return list(dict.fromkeys(found))


@transaction.atomic
def disclosure_register(
    *,
    requester_name: str,
    requester_kind: str,
    instrument: str,
    subject_ids: list[int],
    category_ids: list[int],
    received_at: datetime,
    period_start: date | None = None,
    period_end: date | None = None,
    actor: User,
    request=None,
) -> DisclosureRequest:
    """Register a request as it arrived: who asks, on which instrument, for what (C9)."""
    _role_check(actor, CLASSIFIERS)
    if not subject_ids:
        raise PortalError(NO_SUBJECTS, field="identifiers")
    if not category_ids:
        raise PortalError(NO_CATEGORIES, field="categories")
    if period_start and period_end and period_end < period_start:
        raise PortalError(PERIOD_ORDER, field="period_end")
    if received_at > timezone.now():
        raise PortalError(IN_FUTURE, field="received_at")
    subjects = list(DataSubject.objects.filter(pk__in=subject_ids))
    categories = list(DataCategory.objects.filter(pk__in=category_ids))
    if len(subjects) != len(set(subject_ids)):
        raise PortalError(NO_SUBJECTS, field="identifiers")
    if len(categories) != len(set(category_ids)):
        raise PortalError(NO_CATEGORIES, field="categories")
    disclosure = DisclosureRequest(
        requester_name=requester_name,
        requester_kind=requester_kind,
        instrument=instrument,
        received_at=received_at,
        period_start=period_start,
        period_end=period_end,
        registered_by=actor,
    )
    try:
        disclosure.full_clean()
    except ValidationError as exc:
        field, errors = next(iter(exc.message_dict.items()))
        raise PortalError(errors[0], field=field) from exc
    disclosure.save()
    disclosure.subjects.set(subjects)
    disclosure.categories.set(categories)
    _log(
        action=Action.CREATE,
        actor=actor,
        disclosure=disclosure,
        event="disclosure_registered",
        request=request,
        requester_kind=requester_kind,
        subjects=[str(subject.uuid) for subject in subjects],
        categories=[category.code for category in categories],
    )
    return disclosure


@transaction.atomic
def disclosure_classify(
    *,
    disclosure: DisclosureRequest,
    binding: bool,
    provision: str = "",
    ground: str = "",
    purpose: ProcessingPurpose | None = None,
    note: str = "",
    actor: User,
    request=None,
) -> DisclosureRequest:
    """Classify a request: legally binding, with its provision and Art. 5(2) ground, or not.

    A request that is not binding is rejected at once and for good (C9).
    """
    _role_check(actor, CLASSIFIERS)
    disclosure = DisclosureRequest.objects.get(pk=disclosure.pk)  # as stored, not as passed
    if disclosure.status != DisclosureStatus.RECEIVED:
        raise PortalError(NOT_RECEIVED, code="classified", status=409)
    provision, note = provision.strip(), note.strip()
    if binding and not provision:
        raise PortalError(PROVISION_MISSING, field="provision")
    if binding and ground not in DisclosureGround.values:
        raise PortalError(GROUND_MISSING, field="ground")
    if binding and not (isinstance(purpose, ProcessingPurpose) and purpose.is_active):
        raise PortalError(PURPOSE_MISSING, field="purpose")
    disclosure = _locked(disclosure)
    if disclosure.status != DisclosureStatus.RECEIVED:
        raise PortalError(NOT_RECEIVED, code="classified", status=409)
    disclosure.is_binding = binding
    disclosure.provision = provision if binding else ""
    disclosure.ground = ground if binding else ""
    disclosure.purpose = purpose if binding else None
    disclosure.classification_note = note
    disclosure.classified_by, disclosure.classified_at = actor, timezone.now()
    disclosure.status = DisclosureStatus.BINDING if binding else DisclosureStatus.REJECTED
    disclosure.save()
    _log(
        action=Action.UPDATE,
        actor=actor,
        disclosure=disclosure,
        event="disclosure_classified" if binding else "disclosure_rejected",
        request=request,
        binding=binding,
        ground=ground if binding else "",
    )
    return disclosure


def disclosure_authorise(
    *, disclosure: DisclosureRequest, user: User, token: str, request=None
) -> DisclosureAuthorisation:
    """One controller admin authorises a binding request with a current authenticator code.

    The same person cannot authorise twice; the second different person's authorisation
    makes the export possible. A wrong code changes nothing.
    """
    _role_check(user, AUTHORISERS)
    disclosure = DisclosureRequest.objects.get(pk=disclosure.pk)  # as stored, not as passed
    _authorisable_check(disclosure, user)
    # Outside the authorisation's transaction, so a wrong code still counts for the throttle.
    authenticator_code_check(user=user, token=token)
    with transaction.atomic():
        disclosure = _locked(disclosure)
        _authorisable_check(disclosure, user)
        authorisation = DisclosureAuthorisation.objects.create(disclosure=disclosure, user=user)
        count = disclosure.authorisations.count()
        if count >= AUTHORISATIONS_REQUIRED:
            disclosure.status = DisclosureStatus.AUTHORISED
            disclosure.save(update_fields=["status"])
        _log(
            action=Action.UPDATE,
            actor=user,
            disclosure=disclosure,
            event="disclosure_authorised",
            request=request,
            authorisations=count,
        )
    return authorisation


def _authorisable_check(disclosure: DisclosureRequest, user: User) -> None:
    if disclosure.status == DisclosureStatus.REJECTED:
        raise PortalError(REJECTED_NEVER, code="rejected", status=409)
    if disclosure.status != DisclosureStatus.BINDING:
        raise PortalError(NOT_BINDING, code="not_binding", status=409)
    if disclosure.authorisations.filter(user=user).exists():
        raise PortalError(ALREADY_AUTHORISED, code="already_authorised", status=409)


@dataclass(frozen=True)
class DisclosureExport:
    filename: str
    content: bytes
    transfer: object


def _scope_rows(disclosure: DisclosureRequest) -> list[dict]:
    """The data in scope, decrypted through the register: one row per item."""
    codes = set(disclosure.categories.values_list("code", flat=True))
    rows = []
    for subject in disclosure.subjects.select_related("group").order_by("pk"):
        view = subject_decrypt(subject)
        if view.destroyed:
            continue
        for item in view.items:
            collected = timezone.localdate(item.collected_at)
            if item.category_code not in codes:
                continue
            if disclosure.period_start and collected < disclosure.period_start:
                continue
            if disclosure.period_end and collected > disclosure.period_end:
                continue
            rows.append(
                {
                    "subject": view.uuid,
                    "name": view.name,
                    "identifiers": view.identifiers,
                    "category": item.category,
                    "category_code": item.category_code,
                    "value": item.value,
                    "collected_at": item.collected_at.isoformat(),
                    "_subject_id": subject.pk,
                }
            )
    return rows


def _archive(
    disclosure: DisclosureRequest, rows: list[dict], legal_basis: str, ground: str
) -> bytes:
    public = [{key: value for key, value in row.items() if not key.startswith("_")} for row in rows]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["subject", "name", "category", "value", "collected_at"])
    for row in public:
        writer.writerow(
            [row["subject"], row["name"], row["category"], row["value"], row["collected_at"]]
        )
    manifest = {
        "disclosure": disclosure.pk,
        "requester": disclosure.requester_name,
        "instrument": disclosure.instrument,
        "provision": disclosure.provision,
        "legal_basis": legal_basis,
        "ground": ground,
        "exported_at": timezone.now().isoformat(),
        "items": public,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.csv", text.getvalue())
        archive.writestr("data.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return buffer.getvalue()


def disclosure_export(
    *, disclosure: DisclosureRequest, actor: User, request=None
) -> DisclosureExport:
    """The data of an authorised request as a ZIP (CSV and JSON), for an admin who authorised it.

    Each export is recorded as a transfer to the requester (Art. 8(2)(a) with the chosen
    Art. 5(2) ground) and in the processing log, one entry per subject disclosed.
    """
    _role_check(actor, AUTHORISERS)
    with transaction.atomic():
        disclosure = _locked(disclosure)
        if disclosure.status == DisclosureStatus.REJECTED:
            raise PortalError(REJECTED_NEVER, code="rejected", status=409)
        if disclosure.status not in (DisclosureStatus.AUTHORISED, DisclosureStatus.DISCLOSED):
            raise PortalError(NOT_AUTHORISED, code="not_authorised", status=409)
        if not disclosure.authorisations.filter(user=actor).exists():
            raise PortalError(NOT_AN_AUTHORISER, code="forbidden", status=403)
        rows = _scope_rows(disclosure)
        subject_ids = sorted({row["_subject_id"] for row in rows})
        category_ids = list(disclosure.categories.values_list("pk", flat=True))
        if not rows:
            raise PortalError(NOTHING_IN_SCOPE, code="nothing_in_scope", status=409)
        legal_basis, ground = transfer_basis(disclosure)
        try:
            transfer = transfer_record(
                recipient=recipient_for(disclosure=disclosure, actor=actor, request=request),
                category_ids=category_ids,
                subject_ids=subject_ids,
                purpose=disclosure.purpose,
                legal_basis=legal_basis,
                ground=ground,
                source=Transfer.Source.DISCLOSURE,
                informed_at=disclosure.authorisations.order_by("-at")[0].at,
                actor=actor,
                request=request,
                note=f"{disclosure.instrument} / {disclosure.provision}"[:500],
            )
        except PortalError as exc:
            # Nothing of the disclosure is written then; leaving the block normally lets the
            # refusal's own entry in the processing log commit.
            refused = exc
        else:
            refused = None
            _disclosed_record(disclosure=disclosure, rows=rows, actor=actor, request=request)
    if refused is not None:
        raise refused
    content = _archive(disclosure, rows, legal_basis, ground)
    return DisclosureExport(f"disclosure-{disclosure.pk}.zip", content, transfer)


def _disclosed_record(*, disclosure: DisclosureRequest, rows: list[dict], actor, request) -> None:
    """The processing log of an export, one entry per subject disclosed, and the status."""
    subjects = {row["_subject_id"]: row["subject"] for row in rows}
    for _subject_id, subject_ref in sorted(subjects.items()):
        audit_entry_create(
            action=Action.EXPORT,
            actor=actor,
            target=disclosure,
            subject_ref=subject_ref,
            purpose=DISCLOSURE_PURPOSE,
            detail={"event": "disclosure_exported", "disclosure": disclosure.pk},
            request=request,
        )
    if disclosure.status != DisclosureStatus.DISCLOSED:
        disclosure.status = DisclosureStatus.DISCLOSED
        disclosure.disclosed_at, disclosure.disclosed_by = timezone.now(), actor
        disclosure.save(update_fields=["status", "disclosed_at", "disclosed_by"])
    _log(
        action=Action.TRANSFER,
        actor=actor,
        disclosure=disclosure,
        event="disclosure_exported",
        request=request,
        subjects=len(subjects),
        items=len(rows),
    )


def recipient_for(*, disclosure: DisclosureRequest, actor: User, request=None) -> Recipient:
    """The requester in the recipient register: found by name and kind, or added (at home)."""
    kind = (
        RecipientKind.PUBLIC_AUTHORITY
        if disclosure.requester_kind in PUBLIC_REQUESTERS
        else RecipientKind.OTHER
    )
    recipient = Recipient.objects.filter(
        name=disclosure.requester_name, kind=kind, is_controller=False
    ).first()
    if recipient is None:
        recipient = recipient_create(
            actor=actor,
            request=request,
            name=disclosure.requester_name,
            kind=kind,
            country=HOME_COUNTRY,
        )
    return recipient


def transfer_basis(disclosure: DisclosureRequest) -> tuple[str, str]:
    """Art. 8(2)(a) with the chosen Art. 5(2) ground; for special categories in scope,
    Art. 8(2)(b) with the Art. 6(3)(b) ground (expressly provided by law)."""
    if disclosure.categories.exclude(special_category="").exists():
        return TransferBasis.ART6_GROUND, Art6Ground.LAW
    return TransferBasis.ART5_GROUND, disclosure.ground


def rejection_letter_pdf(*, disclosure: DisclosureRequest, actor=None, request=None) -> bytes:
    """The Turkish letter answering a request that does not bind the controller (C9)."""
    if disclosure.status != DisclosureStatus.REJECTED:
        raise PortalError(NOT_REJECTED, code="not_rejected", status=409)
    tenant = getattr(connection, "tenant", None)
    controller = getattr(tenant, "legal_name", "") or connection.schema_name
    with translation.override("tr"):
        html = render_to_string(
            "transfers/disclosures/rejection_letter.html",
            {"disclosure": disclosure, "controller": controller, "today": timezone.localdate()},
        )
    _log(
        action=Action.READ,
        actor=actor,
        disclosure=disclosure,
        event="disclosure_letter",
        request=request,
    )
    return html_to_pdf(html)
