"""Reads of the personal-data register.

Finding a subject by an identifier needs no decryption: the value is turned
into its blind index and matched in one indexed query. Reading values does
need decryption, and every such read is a processing act: it is logged with
the purpose the reader stated.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.models import Action
from audit.services import audit_entry_create
from config.kvkk import LegalBasis
from subjects.crypto import (
    ATTACHMENT_CONTENT,
    ATTACHMENT_NAME,
    CONSENT_EVIDENCE_NAME,
    IDENTIFIER_VALUE,
    INTERACTION_TEXT,
    ITEM_VALUE,
    SUBJECT_NAME,
    keyring,
    subject_cipher_of,
)
from subjects.exports import export_announce
from subjects.models import (
    Consent,
    ConsentChannel,
    DataSubject,
    IdentifierKind,
    Interaction,
    PersonalDataItem,
    PrivacyNotice,
    ProcessingPurpose,
    SubjectIdentifier,
)
from subjects.validation import NORMALIZERS


def _item_count(subject_ref: str) -> Coalesce:
    # Items are counted per subject shown (one index scan each), not by grouping every
    # item of the register before a page of 50 is cut: 178 ms -> 19 ms at 200,000 items.
    counted = (
        PersonalDataItem.objects.filter(subject=OuterRef(subject_ref), deleted_at__isnull=True)
        .order_by()
        .values("subject")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


def subject_list() -> QuerySet[DataSubject]:
    return (
        DataSubject.objects.select_related("group")
        .annotate(item_count=_item_count("pk"))
        .order_by("-created_at")
    )


def identifier_candidates(value: str, kind: str | None = None) -> dict[bytes, str]:
    """Blind indexes a typed value could have, with their kinds: one kind, or every kind it parses as."""
    ring = keyring()
    kinds = [kind] if kind else list(IdentifierKind.values)
    candidates = {}
    for candidate_kind in kinds:
        try:
            normalized = NORMALIZERS[candidate_kind](value)
        except ValidationError:
            continue
        candidates[ring.blind_index(candidate_kind, normalized)] = candidate_kind
    return candidates


@dataclass(frozen=True)
class Match:
    """A subject found by a typed value, and the kind of identifier it matched as."""

    kind: str
    subject: DataSubject

    @property
    def kind_label(self) -> str:
        return IdentifierKind(self.kind).label


def subject_matches(*, value: str, kind: str | None = None) -> list[Match]:
    """Every subject holding this value as an identifier, with the kind it matched as.

    A value may parse as several kinds (a number is a phone and a customer number);
    each match is returned, never an arbitrary first one. One indexed query.
    """
    candidates = identifier_candidates(value, kind)
    if not candidates:
        return []
    rows = (
        SubjectIdentifier.objects.select_related("subject__group")
        .filter(blind_index__in=list(candidates))
        .annotate(item_count=_item_count("subject_id"))
    )
    order = list(IdentifierKind.values)
    matches = []
    for row in rows:
        row.subject.item_count = row.item_count
        matches.append(Match(row.kind, row.subject))
    return sorted(matches, key=lambda match: (order.index(match.kind), match.subject.pk))


def subject_lookup(
    *, value: str, kind: str | None = None, actor: Any = None, actor_label: str = "", request=None
) -> list[Match]:
    """subject_matches for people and systems: whether someone is held is itself logged."""
    matches = subject_matches(value=value, kind=kind)
    audit_entry_create(
        action=Action.READ,
        actor=actor,
        actor_label=actor_label,
        target=matches[0].subject if len(matches) == 1 else None,
        subject_ref=str(matches[0].subject.uuid) if len(matches) == 1 else "",
        request=request,
        detail={
            "event": "lookup",
            "kind": kind or "any",
            "found": len(matches),
            "subjects": [str(match.subject.uuid) for match in matches],
        },
    )
    return matches


@dataclass(frozen=True)
class ItemView:
    id: int
    category: str
    category_code: str
    special: bool
    purpose: str
    purpose_code: str
    legal_basis: str
    source_system: str
    value: str
    collected_at: datetime
    last_used_at: datetime | None

    @property
    def legal_basis_label(self) -> str:
        return LegalBasis(self.legal_basis).label


@dataclass(frozen=True)
class InteractionView:
    id: int
    uuid: str
    kind: str
    occurred_at: datetime
    text: str
    attachment_name: str | None
    attachment_size: int | None

    @property
    def kind_label(self) -> str:
        return Interaction.Kind(self.kind).label


@dataclass(frozen=True)
class ConsentView:
    uuid: str
    purpose: str
    purpose_code: str
    channel: str
    notice_version: int | None
    given_at: datetime
    withdrawn_at: datetime | None
    evidence_reference: str
    evidence_name: str | None
    evidence_size: int | None
    valid: bool

    @property
    def has_evidence_file(self) -> bool:
        return self.evidence_name is not None

    @property
    def channel_label(self) -> str:
        return ConsentChannel(self.channel).label


@dataclass(frozen=True)
class SubjectView:
    uuid: str
    group: str
    name: str
    identifiers: dict[str, str]
    items: list[ItemView]
    interactions: list[InteractionView]
    destroyed: bool
    relationship_ended_at: datetime | None = None
    consents: list[ConsentView] = field(default_factory=list)

    @property
    def identifier_rows(self) -> list[tuple[str, str]]:
        return [(IdentifierKind(kind).label, value) for kind, value in self.identifiers.items()]


def subject_decrypt(subject: DataSubject) -> SubjectView:
    """Everything held for the subject, decrypted. Callers log the read (subject_read).

    A value that fails its integrity check raises ValueTampered (see subjects.crypto).
    """
    cipher = None if subject.is_shredded else subject_cipher_of(subject)
    if cipher is None:
        return SubjectView(
            str(subject.uuid),
            subject.group.name,
            "",
            {},
            [],
            [],
            destroyed=True,
            relationship_ended_at=subject.relationship_ended_at,
        )
    identifiers = {
        row.kind: cipher.open(row.value_enc, IDENTIFIER_VALUE, row.pk)
        for row in subject.identifiers.all()
    }
    items = [
        ItemView(
            item.pk,
            item.category.name,
            item.category.code,
            item.category.is_special,
            item.purpose.name,
            item.purpose.code,
            item.legal_basis,
            item.source_system,
            cipher.open(item.value_enc, ITEM_VALUE, item.pk),
            item.collected_at,
            item.last_used_at,
        )
        for item in subject.items.filter(deleted_at__isnull=True)
        .select_related("category", "purpose")
        .order_by("collected_at", "pk")
    ]
    interactions = [
        InteractionView(
            row.pk,
            str(row.uuid),
            row.kind,
            row.occurred_at,
            cipher.open(row.text_enc, INTERACTION_TEXT, row.pk),
            cipher.open(row.attachment_name_enc, ATTACHMENT_NAME, row.pk)
            if row.attachment_name_enc
            else None,
            row.attachment_size,
        )
        for row in subject.interactions.order_by("-occurred_at")
    ]
    now = timezone.now()
    consents = [
        ConsentView(
            str(row.uuid),
            row.purpose.name,
            row.purpose.code,
            row.channel,
            row.notice.version if row.notice else None,
            row.given_at,
            row.withdrawn_at,
            row.evidence_reference,
            cipher.open(row.evidence_name_enc, CONSENT_EVIDENCE_NAME, row.pk)
            if row.evidence_name_enc
            else None,
            row.evidence_size,
            row.given_at <= now and (row.withdrawn_at is None or row.withdrawn_at > now),
        )
        for row in subject_consents(subject=subject)
    ]
    return SubjectView(
        str(subject.uuid),
        subject.group.name,
        cipher.open(subject.name_enc, SUBJECT_NAME, subject.pk),
        identifiers,
        items,
        interactions,
        destroyed=False,
        relationship_ended_at=subject.relationship_ended_at,
        consents=consents,
    )


def subject_identifiers(subject: DataSubject) -> dict[str, str]:
    """Only the identifiers held for the subject, decrypted (e.g. where to send a code).

    Cheaper than ``subject_decrypt``: no items or interactions are opened. Callers log the read.
    """
    cipher = None if subject.is_shredded else subject_cipher_of(subject)
    if cipher is None:
        return {}
    return {
        row.kind: cipher.open(row.value_enc, IDENTIFIER_VALUE, row.pk)
        for row in subject.identifiers.all()
    }


def subject_read(
    *, subject: DataSubject, purpose: str, actor: Any = None, actor_label: str = "", request=None
) -> SubjectView:
    """Decrypt a subject for a reader and log the read with the stated purpose (Art. 12)."""
    view = subject_decrypt(subject)
    audit_entry_create(
        action=Action.READ,
        actor=actor,
        actor_label=actor_label,
        target=subject,
        subject_ref=str(subject.uuid),
        purpose=purpose,
        request=request,
    )
    return view


def attachment_export(
    *, interaction: Interaction, purpose: str, actor: Any = None, request=None
) -> tuple[str, bytes]:
    """Decrypt an interaction's attachment for download; the export is logged with its purpose."""
    subject = interaction.subject
    usable = interaction.attachment_path and not subject.is_shredded
    cipher = subject_cipher_of(subject) if usable else None
    if cipher is None:
        raise Interaction.DoesNotExist
    with default_storage.open(interaction.attachment_path) as handle:
        content = cipher.open_bytes(handle.read(), ATTACHMENT_CONTENT, interaction.pk)
    name = cipher.open(interaction.attachment_name_enc, ATTACHMENT_NAME, interaction.pk)
    audit_entry_create(
        action=Action.EXPORT,
        actor=actor,
        target=interaction,
        subject_ref=str(subject.uuid),
        purpose=purpose,
        request=request,
        detail={"event": "attachment_download", "bytes": len(content)},
    )
    export_announce(
        subject_ids=[subject.pk],
        category_ids=[],
        label="attachment_download",
        actor=actor,
        request=request,
    )
    return name, content


# --- Explicit consent (açık rıza) -------------------------------------------------------


def _purpose_filter(purpose: ProcessingPurpose | int | str) -> Q:
    if isinstance(purpose, ProcessingPurpose):
        return Q(purpose_id=purpose.pk)
    if isinstance(purpose, int):
        return Q(purpose_id=purpose)
    return Q(purpose__code=purpose)


def consents_valid_q(*, at: datetime) -> Q:
    """Consents given by ``at`` and not withdrawn by then."""
    return Q(given_at__lte=at) & (Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=at))


def consent_valid(
    *,
    subject_ids: Iterable[int],
    purpose: ProcessingPurpose | int | str,
    at: datetime | None = None,
) -> set[int]:
    """The subjects among ``subject_ids`` with a valid, unwithdrawn explicit consent for the
    purpose at ``at`` (now by default). One query, whatever the number of subjects.

    ``purpose`` is a ProcessingPurpose, its id or its code. Subjects whose data has been
    destroyed have no valid consent.
    """
    ids = list(subject_ids)
    if not ids:
        return set()
    at = at or timezone.now()
    return set(
        Consent.objects.filter(
            _purpose_filter(purpose),
            consents_valid_q(at=at),
            subject_id__in=ids,
            subject__destruction_requested_at__isnull=True,
            subject__key_destroyed_at__isnull=True,
        ).values_list("subject_id", flat=True)
    )


def subject_consents(*, subject: DataSubject) -> QuerySet[Consent]:
    return subject.consents.select_related("purpose", "notice").order_by("-given_at", "-pk")


def notice_list() -> QuerySet[PrivacyNotice]:
    return PrivacyNotice.objects.annotate(consent_count=Count("consents")).order_by("-version")


def notice_current() -> PrivacyNotice | None:
    return PrivacyNotice.objects.order_by("-version").first()


def consents_withdrawn_recently(*, days: int = 30, now: datetime | None = None):
    since = (now or timezone.now()) - timedelta(days=days)
    return (
        Consent.objects.filter(withdrawn_at__gte=since)
        .select_related("purpose", "subject")
        .order_by("-withdrawn_at")
    )


def special_category_summary() -> list[dict]:
    """Special-category items held (not ended), counted by category and legal basis."""
    rows = (
        PersonalDataItem.objects.filter(deleted_at__isnull=True)
        .exclude(category__special_category="")
        .values("category__name", "category__special_category", "legal_basis")
        .annotate(count=Count("*"))
        .order_by("category__name", "legal_basis")
    )
    return [
        {
            "category": row["category__name"],
            "legal_basis": row["legal_basis"],
            "legal_basis_label": LegalBasis(row["legal_basis"]).label,
            "count": row["count"],
        }
        for row in rows
    ]
