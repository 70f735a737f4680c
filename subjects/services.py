"""Writes to the personal-data register (KVKK Art. 4, 5, 6, 7, 12; commitments C1, C2, C10).

Every write is checked first (subjects.validation). Values are encrypted with
the subject's data key, bound to the field and row they are stored in, before
they reach the database (subjects/crypto.py); identifiers are stored with a
blind index only. Every write appends to the processing log. A write that
extends a subject locks its row first and re-checks its key, so nothing is
ever added to a subject that is being destroyed.
"""

import hashlib
import logging
import uuid
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import Action
from audit.services import audit_entry_create
from config.errors import PortalError
from config.kvkk import LegalBasis
from subjects import crypto
from subjects.bulk import copy_rows, history_record, reserve_ids
from subjects.crypto import (
    ATTACHMENT_CONTENT,
    ATTACHMENT_NAME,
    IDENTIFIER_VALUE,
    INTERACTION_TEXT,
    ITEM_VALUE,
    SUBJECT_NAME,
    SubjectCipher,
    keyring,
)
from subjects.exports import export_announce
from subjects.models import (
    Consent,
    DataSubject,
    IdentifierKind,
    Interaction,
    PersonalDataItem,
    PrivacyNotice,
    ProcessingPurpose,
    SubjectGroup,
    SubjectIdentifier,
)
from subjects.validation import (
    LAST_USED_BEFORE_COLLECTED,
    MAX_ATTACHMENT_NAME,
    MAX_INTERACTION_TEXT,
    MAX_VALUE,
    VALUE_REQUIRED,
    WITHDRAWN_BEFORE_GIVEN,
    WITHDRAWN_IN_FUTURE,
    ConsentRefused,
    ErrorCollector,
    GateRow,
    Inventory,
    ItemInput,
    RecordErrors,
    SubjectInput,
    consent_check,
    consent_gate,
    item_check,
    items_validate,
    parse_moment,
    record_gate_rows,
    relationship_end_clean,
)

logger = logging.getLogger(__name__)

IDENTIFIERS_CONFLICT = _("These identifiers belong to different data subjects.")
IDENTIFIER_DIFFERS = _("The data subject already has a different %(kind)s.")
DUPLICATE_IN_BATCH = _("The same identifier appears in more than one record of this batch.")
SUBJECT_DESTROYED = _("This data subject's data has been destroyed; nothing can be added.")
IDENTIFIER_TAKEN = _("This %(kind)s already belongs to another data subject.")
IDENTIFIER_CLAIMED = _(
    "An identifier in this request was stored for another data subject at the same moment. "
    "Nothing was saved; send the request again."
)
ATTACHMENT_TOO_LARGE = _("The attachment is larger than %(limit)s.")
# The unique index PostgreSQL names for SubjectIdentifier.blind_index.
_BLIND_INDEX_CONSTRAINTS = ("blind_index_key", "blind_index_uniq")
# subject_update leaves a field as it is unless it is given
UNCHANGED = object()


@dataclass(frozen=True)
class IngestResult:
    """What one register_ingest call did: the subjects' uuids (created, then extended) and items."""

    created: list[uuid.UUID]
    matched: list[uuid.UUID]
    items: int

    @property
    def subjects(self) -> list[uuid.UUID]:
        return self.created + self.matched


class IdentifierClaimed(PortalError):
    """A concurrent write stored one of these identifiers for another subject first."""

    def __init__(self):
        super().__init__(IDENTIFIER_CLAIMED, code="identifier_conflict", status=409)


def _raise_if_identifier_claimed(exc: IntegrityError) -> None:
    constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", "") or ""
    if constraint.endswith(_BLIND_INDEX_CONSTRAINTS):
        raise IdentifierClaimed() from exc


def _destroyed() -> PortalError:
    return PortalError(SUBJECT_DESTROYED, code="subject_destroyed", status=409)


def _lock_subjects(ids: Iterable[int]) -> dict[int, DataSubject]:
    """Lock subject rows in primary-key order (the one order every writer uses: no deadlock)."""
    return {
        subject.pk: subject
        for subject in DataSubject.objects.select_for_update()
        .filter(pk__in=list(ids))
        .order_by("pk")
    }


# --- Bulk ingestion ----------------------------------------------------------------------
# Rows go in with COPY: one round trip per table per batch. Callers send batches of
# at most settings.API_BULK_MAX_SUBJECTS subjects, so one batch's ciphertexts stay a
# few MB in memory and a failed batch rolls back as a whole. Items are encrypted while
# their COPY streams, so PostgreSQL stores one part while Python seals the next.

SUBJECT_COLUMNS = (
    "id",
    "uuid",
    "group_id",
    "name_enc",
    "relationship_ended_at",
    "created_at",
    "updated_at",
)
IDENTIFIER_COLUMNS = ("id", "subject_id", "kind", "value_enc", "blind_index")
ITEM_COLUMNS = (
    "id",
    "subject_id",
    "category_id",
    "purpose_id",
    "legal_basis",
    "source_system",
    "value_enc",
    "collected_at",
    "last_used_at",
    "created_at",
)


# The table name is the model's own, never input.
_OWNERS_SQL = (
    f'SELECT blind_index, subject_id, kind FROM "{SubjectIdentifier._meta.db_table}"'  # noqa: S608
    " WHERE blind_index = ANY(%s)"
)


def _digest(values: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(values)).encode()).hexdigest()


def register_ingest(
    *,
    inputs: Sequence[SubjectInput],
    actor: Any = None,
    actor_label: str = "",
    source: str,
    request=None,
) -> IngestResult:
    """Create or extend data subjects with their items, all or nothing (Art. 12 security).

    A record whose identifiers match an existing subject adds its items to that
    subject, whose row is locked and whose key is checked first; otherwise a new
    subject is created with a fresh data key. An identifier another request stores
    at the same moment ends the call with IdentifierClaimed (409) and nothing saved.
    """
    try:
        with _consent_refusal_logged(actor=actor, actor_label=actor_label, request=request):
            return _ingest(
                inputs, actor=actor, actor_label=actor_label, source=source, request=request
            )
    except IntegrityError as exc:
        _raise_if_identifier_claimed(exc)
        raise


def _ingest(inputs, *, actor, actor_label, source, request) -> IngestResult:
    ring = keyring()
    indexed = [
        {kind: ring.blind_index(kind, value) for kind, value in inp.identifiers.items()}
        for inp in inputs
    ]
    errors = ErrorCollector()
    seen: dict[bytes, int] = {}
    for position, bis in enumerate(indexed):
        for bi in bis.values():
            if seen.setdefault(bi, position) != position:
                errors.add(f"subjects[{position}].identifiers", DUPLICATE_IN_BATCH)
    all_bis = [bi for bis in indexed for bi in bis.values()]
    owners: dict[bytes, tuple[int, str]] = {}
    # One array parameter instead of thousands of bound ones: same index scan, far less parsing.
    with connection.cursor() as cursor:
        cursor.execute(_OWNERS_SQL, [all_bis])
        for bi, subject_id, kind in cursor.fetchall():
            owners[bytes(bi)] = (subject_id, kind)
    matched_ids: list[int | None] = []
    for position, bis in enumerate(indexed):
        found = {owners[bi][0] for bi in bis.values() if bi in owners}
        if len(found) > 1:
            errors.add(f"subjects[{position}].identifiers", IDENTIFIERS_CONFLICT)
        matched_ids.append(next(iter(found)) if len(found) == 1 else None)
    existing = _lock_subjects(sid for sid in matched_ids if sid) if any(matched_ids) else {}
    ciphers = crypto.subject_ciphers_of(existing.values())
    existing_kinds: dict[int, set[str]] = {}
    for subject_id, kind in SubjectIdentifier.objects.filter(
        subject_id__in=list(existing)
    ).values_list("subject_id", "kind"):
        existing_kinds.setdefault(subject_id, set()).add(kind)
    for position, subject_id in enumerate(matched_ids):
        if subject_id is None:
            continue
        subject = existing.get(subject_id)
        if subject is None or subject.is_shredded or str(subject.uuid) not in ciphers:
            errors.add(f"subjects[{position}]", SUBJECT_DESTROYED)
            continue
        for kind, bi in indexed[position].items():
            if bi not in owners and kind in existing_kinds.get(subject_id, set()):
                errors.add(
                    f"subjects[{position}].identifiers.{kind}",
                    IDENTIFIER_DIFFERS % {"kind": IdentifierKind(kind).label},
                )
    if errors.errors:
        raise RecordErrors(errors.errors)
    # the consent gate for the whole batch: one query for the stored subjects' consents
    consent_gate(rows=record_gate_rows(inputs=inputs, subject_ids=matched_ids))

    now = timezone.now()
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    reason = f"ingest:{source}"
    new_ids = iter(reserve_ids(DataSubject, matched_ids.count(None)))
    subject_rows, new_keys, identifier_rows = [], [], []
    created, matched, targets = [], [], []
    relationship_ends: dict[datetime | None, list[int]] = {}
    for position, inp in enumerate(inputs):
        subject_id = matched_ids[position]
        if subject_id is None:
            subject_uuid = uuid.uuid4()
            cipher, wrapped = ring.new_subject_key(str(subject_uuid))
            subject_id = next(new_ids)
            subject_rows.append(
                (
                    subject_id,
                    subject_uuid,
                    inp.group.id,
                    cipher.seal(inp.name, SUBJECT_NAME, subject_id),
                    inp.relationship_ended_at,
                    now,
                    now,
                )
            )
            new_keys.append((subject_uuid, wrapped))
            created.append(subject_uuid)
        else:
            subject = existing[subject_id]
            cipher = ciphers[str(subject.uuid)]
            matched.append(subject.uuid)
            if (
                inp.relationship_given
                and inp.relationship_ended_at != subject.relationship_ended_at
            ):
                relationship_ends.setdefault(inp.relationship_ended_at, []).append(subject_id)
        targets.append((subject_id, cipher))
        for kind, value in inp.identifiers.items():
            bi = indexed[position][kind]
            if bi not in owners:
                identifier_rows.append([subject_id, kind, value, bi, cipher])
    if new_keys:
        crypto.subject_keys_store(new_keys)  # committed first: see its docstring
        copy_rows(DataSubject, SUBJECT_COLUMNS, subject_rows)
        history_record(
            DataSubject,
            [row[0] for row in subject_rows],
            when=now,
            actor_id=actor_id,
            reason=reason,
        )
    for ended_at, subject_ids in relationship_ends.items():
        # one statement per distinct date, and the change in the subjects' history
        DataSubject.objects.filter(pk__in=subject_ids).update(
            relationship_ended_at=ended_at, updated_at=now
        )
        history_record(
            DataSubject, subject_ids, when=now, actor_id=actor_id, reason=reason, change=True
        )
    if identifier_rows:
        identifier_ids = reserve_ids(SubjectIdentifier, len(identifier_rows))
        copy_rows(
            SubjectIdentifier,
            IDENTIFIER_COLUMNS,
            (
                (row_id, subject_id, kind, cipher.seal(value, IDENTIFIER_VALUE, row_id), bi)
                for row_id, (subject_id, kind, value, bi, cipher) in zip(
                    identifier_ids, identifier_rows, strict=True
                )
            ),
        )
    consents = _record_consents_store(
        inputs,
        [subject_id for subject_id, _cipher in targets],
        actor=actor,
        actor_label=actor_label,
        request=request,
    )
    item_ids = reserve_ids(PersonalDataItem, sum(len(inp.items) for inp in inputs))
    if item_ids:
        copy_rows(PersonalDataItem, ITEM_COLUMNS, _item_rows(inputs, targets, item_ids, now))
        history_record(PersonalDataItem, item_ids, when=now, actor_id=actor_id, reason=reason)
    audit_entry_create(
        action=Action.CREATE,
        actor=actor,
        actor_label=actor_label,
        request=request,
        subject_ref=str((created + matched)[0]) if len(inputs) == 1 else "",
        purpose=", ".join(sorted({item.purpose.code for inp in inputs for item in inp.items}))[
            :255
        ],
        detail={
            "event": "register_ingest",
            "source": source,
            "subjects_created": len(created),
            "subjects_extended": len(matched),
            "items": len(item_ids),
            "identifiers": len(identifier_rows),
            "consents": consents,
            "subjects_digest": _digest(str(u) for u in created + matched),
        },
    )
    return IngestResult(created=created, matched=matched, items=len(item_ids))


def _item_rows(
    inputs: Sequence[SubjectInput], targets: list[tuple[int, Any]], ids: list[int], now: datetime
) -> Iterable[tuple]:
    """Item rows in ITEM_COLUMNS order, each value sealed for its row as it is sent."""
    next_id = iter(ids).__next__
    for inp, (subject_id, cipher) in zip(inputs, targets, strict=True):
        seal = cipher.seal
        for item in inp.items:
            item_id = next_id()
            yield (
                item_id,
                subject_id,
                item.category.id,
                item.purpose.id,
                item.legal_basis,
                item.source_system,
                seal(item.value, ITEM_VALUE, item_id),
                item.collected_at,
                item.last_used_at,
                now,
            )


# --- Single-subject writes -------------------------------------------------------------


def _live_subject(subject: DataSubject) -> tuple[DataSubject, SubjectCipher]:
    """The subject's row, locked, and its cipher; refused once destruction has begun."""
    subject = _lock_subjects([subject.pk])[subject.pk]
    cipher = None if subject.is_shredded else crypto.subject_cipher_of(subject)
    if cipher is None:
        raise _destroyed()
    return subject, cipher


def subject_update(
    *,
    subject: DataSubject,
    name: str | None = None,
    group: SubjectGroup | None = None,
    identifiers: dict[str, str] | None = None,
    relationship_ended_at: datetime | object | None = UNCHANGED,
    actor: Any = None,
    actor_label: str = "",
    request=None,
) -> DataSubject:
    """Correct a subject's name, group or identifiers (Art. 11(1)(d) corrections use this too),
    or set when the customer relationship ended (None clears it): retention periods counted
    from that event start then (Art. 7)."""
    if relationship_ended_at is not UNCHANGED and relationship_ended_at is not None:
        relationship_end_clean(value=relationship_ended_at)
    try:
        with transaction.atomic():
            return _subject_update(
                subject=subject,
                name=name,
                group=group,
                identifiers=identifiers or {},
                relationship_ended_at=relationship_ended_at,
                actor=actor,
                actor_label=actor_label,
                request=request,
            )
    except IntegrityError as exc:
        _raise_if_identifier_claimed(exc)
        raise


def _subject_update(
    *, subject, name, group, identifiers, relationship_ended_at, actor, actor_label, request
):
    subject, cipher = _live_subject(subject)
    changed = []
    if relationship_ended_at is not UNCHANGED and relationship_ended_at != (
        subject.relationship_ended_at
    ):
        subject.relationship_ended_at = relationship_ended_at
        changed.append("relationship_ended_at")
    if name is not None:
        subject.name_enc = cipher.seal(name, SUBJECT_NAME, subject.pk)
        changed.append("name")
    if group is not None and group.pk != subject.group_id:
        subject.group = group
        changed.append("group")
    ring = keyring()
    for kind, value in identifiers.items():
        bi = ring.blind_index(kind, value)
        if SubjectIdentifier.objects.filter(blind_index=bi).exclude(subject=subject).exists():
            raise PortalError(
                IDENTIFIER_TAKEN % {"kind": IdentifierKind(kind).label},
                code="identifier_taken",
                field=kind,
                status=409,
            )
        row = SubjectIdentifier.objects.filter(subject=subject, kind=kind).first()
        if row is None:
            row = SubjectIdentifier(
                id=reserve_ids(SubjectIdentifier, 1)[0], subject=subject, kind=kind
            )
        row.value_enc, row.blind_index = cipher.seal(value, IDENTIFIER_VALUE, row.pk), bi
        row.save()
        changed.append(f"identifier:{kind}")
    subject.save()
    audit_entry_create(
        action=Action.UPDATE,
        actor=actor,
        actor_label=actor_label,
        target=subject,
        subject_ref=str(subject.uuid),
        detail={"fields": changed},
        request=request,
    )
    return subject


def item_update(
    *,
    item: PersonalDataItem,
    value: str | None = None,
    purpose: ProcessingPurpose | None = None,
    legal_basis: str | None = None,
    last_used_at: datetime | None = None,
    actor: Any = None,
    actor_label: str = "",
    request=None,
) -> PersonalDataItem:
    """Change one item; the same inventory checks as on creation apply, the consent gate too."""
    with _consent_refusal_logged(actor=actor, actor_label=actor_label, request=request):
        return _item_update(
            item=item,
            value=value,
            purpose=purpose,
            legal_basis=legal_basis,
            last_used_at=last_used_at,
            actor=actor,
            actor_label=actor_label,
            request=request,
        )


def _item_update(
    *, item, value, purpose, legal_basis, last_used_at, actor, actor_label, request
) -> PersonalDataItem:
    subject, cipher = _live_subject(item.subject)
    item = (
        PersonalDataItem.objects.select_related("category", "purpose")
        .select_for_update()
        .get(pk=item.pk)
    )
    item.subject = subject
    inventory, errors = Inventory(), ErrorCollector()
    purpose_code = purpose.code if purpose is not None else item.purpose.code
    checked = item_check(
        category=item.category,
        purpose_code=purpose_code,
        basis=legal_basis or item.legal_basis,
        inventory=inventory,
        path="item",
        errors=errors,
    )
    if value is not None and not (0 < len(value) <= MAX_VALUE):
        errors.add("item.value", VALUE_REQUIRED)
    if last_used_at is not None and last_used_at < item.collected_at:
        errors.add("item.last_used_at", LAST_USED_BEFORE_COLLECTED)
    if errors.errors:
        raise RecordErrors(errors.errors)
    # every change is processing: judged as a new item on the same basis would be
    consent_gate(
        rows=[
            GateRow(
                "item.legal_basis",
                subject.pk,
                ItemInput(
                    item.category,
                    checked,
                    legal_basis or item.legal_basis,
                    item.source_system,
                    "",
                    item.collected_at,
                ),
            )
        ]
    )
    changed = []
    if value is not None:
        item.value_enc = cipher.seal(value, ITEM_VALUE, item.pk)
        changed.append("value")
    if purpose is not None:
        item.purpose = checked
        changed.append("purpose")
    if legal_basis is not None:
        item.legal_basis = legal_basis
        changed.append("legal_basis")
    if last_used_at is not None:
        item.last_used_at = last_used_at
        changed.append("last_used_at")
    item.save()
    audit_entry_create(
        action=Action.UPDATE,
        actor=actor,
        actor_label=actor_label,
        target=item,
        subject_ref=str(subject.uuid),
        purpose=item.purpose.code,
        detail={"fields": changed},
        request=request,
    )
    return item


def attachment_check(*, size: int) -> None:
    """Refuse an attachment by its size before anything is stored or even decoded."""
    limit = settings.ATTACHMENT_MAX_BYTES
    if size > limit:
        raise PortalError(
            ATTACHMENT_TOO_LARGE % {"limit": filesizeformat(limit)},
            code="too_large",
            field="attachment",
        )


# An interaction travels as JSON: its attachment base64-encoded (4 bytes for every 3, rounded
# up), its text and file name at worst 12 bytes a character ("\ud83d\ude00" is one emoji),
# plus keys, codes and timestamps.
_JSON_BYTES_PER_CHARACTER = 12
_INTERACTION_FIELDS_BYTES = 1024


def interaction_body_max_bytes(*, attachment_max_bytes: int) -> int:
    """The largest body of a valid interaction carrying the largest attachment allowed."""
    encoded = 4 * -(-attachment_max_bytes // 3)
    texts = (MAX_INTERACTION_TEXT + MAX_ATTACHMENT_NAME) * _JSON_BYTES_PER_CHARACTER
    return encoded + texts + _INTERACTION_FIELDS_BYTES


def attachment_limits_check() -> None:
    """The API body limit must carry every valid interaction with the largest attachment.

    Otherwise an attachment within ATTACHMENT_MAX_BYTES is refused as a too-large body
    (413) instead of being stored. Run at start-up (SubjectsConfig.ready).
    """
    needed = interaction_body_max_bytes(attachment_max_bytes=settings.ATTACHMENT_MAX_BYTES)
    if needed > settings.API_MAX_BODY_BYTES:
        raise ImproperlyConfigured(
            f"API_MAX_BODY_BYTES ({settings.API_MAX_BODY_BYTES}) must be at least {needed}: "
            f"an interaction with an attachment of ATTACHMENT_MAX_BYTES "
            f"({settings.ATTACHMENT_MAX_BYTES}) base64-encoded, its longest text and name."
        )


@transaction.atomic
def interaction_create(
    *,
    subject: DataSubject,
    kind: str,
    purpose: ProcessingPurpose,
    occurred_at: datetime,
    text: str,
    attachment_name: str = "",
    attachment: bytes | None = None,
    actor: Any = None,
    actor_label: str = "",
    request=None,
) -> Interaction:
    """Record a customer-service interaction; text and attachment are encrypted for the subject.

    Everything is checked before anything is stored; the attachment file is written last
    and removed again if the row is not saved. Should a caller's own transaction roll back
    afterwards, attachments_orphaned_delete() removes the file within the next hours.
    """
    if attachment is not None:
        attachment_check(size=len(attachment))
    subject, cipher = _live_subject(subject)
    interaction = Interaction(
        id=reserve_ids(Interaction, 1)[0],
        subject=subject,
        kind=kind,
        purpose=purpose,
        occurred_at=occurred_at,
    )
    interaction.text_enc = cipher.seal(text, INTERACTION_TEXT, interaction.pk)
    if attachment is not None:
        interaction.attachment_name_enc = cipher.seal(
            attachment_name or "attachment", ATTACHMENT_NAME, interaction.pk
        )
        interaction.attachment_size = len(attachment)
    interaction.full_clean(exclude=["text_enc", "attachment_name_enc", "attachment_path"])
    if attachment is not None:
        path = f"{_attachment_folder()}/{interaction.uuid.hex}.bin"
        interaction.attachment_path = default_storage.save(
            path, ContentFile(cipher.seal(attachment, ATTACHMENT_CONTENT, interaction.pk))
        )
    try:
        interaction.save(force_insert=True)
        audit_entry_create(
            action=Action.CREATE,
            actor=actor,
            actor_label=actor_label,
            target=interaction,
            subject_ref=str(subject.uuid),
            purpose=purpose.code,
            request=request,
        )
    except BaseException:
        if interaction.attachment_path:
            default_storage.delete(interaction.attachment_path)
        raise
    return interaction


# interaction_create writes the file before its row commits. An outer transaction that rolls
# back after it returned leaves the file with no row; the hourly sweep removes such files once
# they are older than this (a younger one may belong to a write still running).
ORPHAN_ATTACHMENT_AGE = timedelta(hours=1)
_SWEEP_BATCH = 1000


def _attachment_folder() -> str:
    # Files live under the tenant's own prefix and hold only ciphertext.
    return f"{connection.schema_name}/interactions"


def attachments_orphaned_delete(*, now: datetime | None = None) -> int:
    """Delete this controller's attachment files no interaction refers to; returns how many.

    Such files hold ciphertext of a write that never committed: nobody can reach them, and
    keeping them would keep personal data without a purpose (Art. 7).
    """
    cutoff = (now or timezone.now()) - ORPHAN_ATTACHMENT_AGE
    folder = _attachment_folder()
    try:
        _folders, names = default_storage.listdir(folder)
    except FileNotFoundError:
        return 0
    paths = [f"{folder}/{name}" for name in names]
    deleted = 0
    for start in range(0, len(paths), _SWEEP_BATCH):
        batch = paths[start : start + _SWEEP_BATCH]
        referred = set(
            Interaction.objects.filter(attachment_path__in=batch).values_list(
                "attachment_path", flat=True
            )
        )
        for path in batch:
            if path not in referred and default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                deleted += 1
    if deleted:
        logger.warning("Deleted %s attachment files of writes that never committed", deleted)
    return deleted


def items_add(
    *,
    subject: DataSubject,
    raw_items: list[dict[str, Any]],
    actor: Any = None,
    actor_label: str = "",
    request=None,
) -> list[PersonalDataItem]:
    """Add items to one subject, checked against the inventory like every other write."""
    with _consent_refusal_logged(actor=actor, actor_label=actor_label, request=request):
        return _items_add(
            subject=subject,
            raw_items=raw_items,
            actor=actor,
            actor_label=actor_label,
            request=request,
        )


def _items_add(*, subject, raw_items, actor, actor_label, request) -> list[PersonalDataItem]:
    errors = ErrorCollector()
    checked = items_validate(raw_items=raw_items, inventory=Inventory(), path="", errors=errors)
    if errors.errors:
        raise RecordErrors({path.removeprefix("."): msgs for path, msgs in errors.errors.items()})
    consent_gate(
        rows=[
            GateRow(f"items[{index}].legal_basis", subject.pk, item)
            for index, item in enumerate(checked)
        ]
    )
    subject, cipher = _live_subject(subject)
    items = []
    for item_id, item in zip(reserve_ids(PersonalDataItem, len(checked)), checked, strict=True):
        row = PersonalDataItem(
            id=item_id,
            subject=subject,
            category=item.category,
            purpose=item.purpose,
            legal_basis=item.legal_basis,
            source_system=item.source_system,
            value_enc=cipher.seal(item.value, ITEM_VALUE, item_id),
            collected_at=item.collected_at,
            last_used_at=item.last_used_at,
        )
        row.save(force_insert=True)
        items.append(row)
    audit_entry_create(
        action=Action.CREATE,
        actor=actor,
        actor_label=actor_label,
        subject_ref=str(subject.uuid),
        request=request,
        purpose=", ".join(sorted({item.purpose.code for item in items}))[:255],
        detail={"event": "items_added", "items": [item.pk for item in items]},
    )
    return items


def value_tampered_record(
    *, error: crypto.ValueTampered, actor: Any = None, actor_label: str = "", request=None
) -> None:
    """A stored value failed its integrity check: the processing log says where (Art. 12)."""
    audit_entry_create(
        action=Action.INTEGRITY_ERROR,
        actor=actor,
        actor_label=actor_label,
        request=request,
        detail={"table": error.place.table, "column": error.place.column, "row": str(error.row_id)},
    )


# --- Destroying a subject ---------------------------------------------------------------
# Destruction spans the data database and the key database, which commit separately.
# The steps are ordered so that a crash anywhere leaves a state that is safe and found again:
#   1. data database: the subject is marked "destruction requested" (committed). From then
#      on nothing reads from it or adds to it.
#   2. key database: its data key is deleted (committed). Every copy of its values, history
#      and data backups included, is unreadable from here on.
#   3. data database: its identifiers go, it is marked destroyed and the processing log
#      records the destruction (committed together). Only now is destruction reported.
# A crash after 1 or 2 leaves a requested, unreported destruction: destruction_resume()
# (hourly, per controller) finishes it. Nothing is reported before the key is gone, and
# nothing readable is left once it is reported.


def subject_key_destroy(
    *, subject: DataSubject, actor: Any = None, actor_label: str = "", reason: str
) -> DataSubject:
    """Crypto-shred a subject (imha): its data key and identifiers go, every value becomes unreadable.

    Runs its own transactions (see above): callers must not wrap it in one. Destruction
    goes through the one destruction service (retention.destruction), which destroys the
    subject's items first and then uses the bulk steps below
    (subjects_destruction_request/_complete) and records the ledger; this single-subject
    form remains for finishing interrupted destructions (destruction_resume).
    """
    with transaction.atomic(durable=True):
        subject = _lock_subjects([subject.pk])[subject.pk]
        if subject.key_destroyed_at is not None:
            return subject
        if subject.destruction_requested_at is None:
            subject.destruction_requested_at = timezone.now()
            subject.save(update_fields=["destruction_requested_at", "updated_at"])
    return _destruction_finish(subject=subject, actor=actor, actor_label=actor_label, reason=reason)


def _destruction_finish(
    *, subject: DataSubject, actor, actor_label: str, reason: str
) -> DataSubject:
    crypto.subject_key_delete(subject.uuid)
    return _destruction_report(subject=subject, actor=actor, actor_label=actor_label, reason=reason)


def _destruction_report(
    *, subject: DataSubject, actor, actor_label: str, reason: str
) -> DataSubject:
    with transaction.atomic(durable=True):
        subject = _lock_subjects([subject.pk])[subject.pk]
        if subject.key_destroyed_at is not None:
            return subject
        paths = _subjects_remains_delete([subject.pk])
        subject.key_destroyed_at = timezone.now()
        subject.save(update_fields=["key_destroyed_at", "updated_at"])
        audit_entry_create(
            action=Action.DESTROY,
            actor=actor,
            actor_label=actor_label,
            target=subject,
            subject_ref=str(subject.uuid),
            detail={"method": "crypto_shred", "reason": reason},
        )
    _files_delete(paths)
    return subject


def _subjects_remains_delete(subject_ids: list[int]) -> list[str]:
    """Remove what identifies the subjects besides their items, in bulk: identifiers,
    interactions and the interactions' history rows, consent evidence files. Returns the attachment files to delete
    once the transaction has committed (a crash before leaves them to the orphan sweep)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM subjects_subjectidentifier WHERE subject_id = ANY(%s::bigint[])",
            [subject_ids],
        )
        cursor.execute(
            "DELETE FROM subjects_historicalinteraction WHERE subject_id = ANY(%s::bigint[])"
            " OR id IN (SELECT id FROM subjects_interaction WHERE subject_id = ANY(%s::bigint[]))",
            [subject_ids, subject_ids],
        )
        cursor.execute(
            "DELETE FROM subjects_interaction WHERE subject_id = ANY(%s::bigint[])"
            " RETURNING attachment_path",
            [subject_ids],
        )
        paths = [path for (path,) in cursor.fetchall() if path]
        # consent evidence files hold ciphertext under the destroyed key: removed as well;
        # the consents themselves stay as the record that they were given and withdrawn
        cursor.execute(
            "UPDATE subjects_consent c SET evidence_path = ''"
            " FROM subjects_consent old WHERE old.id = c.id"
            " AND c.subject_id = ANY(%s::bigint[]) AND c.evidence_path <> ''"
            " RETURNING old.evidence_path",
            [subject_ids],
        )
        return paths + [path for (path,) in cursor.fetchall()]


def _files_delete(paths: Iterable[str]) -> None:
    for path in paths:
        default_storage.delete(path)


def subjects_destruction_request(*, subject_ids: list[int]) -> list[tuple[int, uuid.UUID]]:
    """Step 1 for many subjects in the caller's transaction: mark them "destruction
    requested" (nothing reads from or adds to them from then on). Returns (id, uuid) of
    those newly marked. The caller commits, then calls subjects_destruction_complete()."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE subjects_datasubject SET destruction_requested_at = now(), updated_at = now()"
            " WHERE id = ANY(%s::bigint[]) AND destruction_requested_at IS NULL"
            " AND key_destroyed_at IS NULL RETURNING id, uuid",
            [list(subject_ids)],
        )
        return cursor.fetchall()


def subjects_destruction_complete(*, subject_ids: list[int]) -> list[int]:
    """Steps 2 and 3 for many requested subjects, in bulk and without an entry per subject
    (the retention engine writes one entry per run): their keys go from the key database,
    then their identifiers, interactions with history rows and attachment files, and they
    are marked destroyed. Must not run inside a transaction. Returns the ids completed.

    The subjects' name history rows keep only ciphertext under the destroyed key: nothing
    can read them any more, in the database or its backups.
    """
    rows = list(
        DataSubject.objects.filter(
            pk__in=list(subject_ids),
            destruction_requested_at__isnull=False,
            key_destroyed_at__isnull=True,
        ).values_list("pk", "uuid")
    )
    if not rows:
        return []
    ids = [pk for pk, _uuid in rows]
    crypto.subject_keys_delete([subject_uuid for _pk, subject_uuid in rows])
    with transaction.atomic():
        paths = _subjects_remains_delete(ids)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE subjects_datasubject SET key_destroyed_at = now(), updated_at = now()"
                " WHERE id = ANY(%s::bigint[]) AND key_destroyed_at IS NULL",
                [ids],
            )
    _files_delete(paths)
    return ids


def destruction_resume() -> int:
    """Finish destructions a crash interrupted between their steps; returns how many."""
    pending = DataSubject.objects.filter(
        destruction_requested_at__isnull=False, key_destroyed_at__isnull=True
    ).order_by("pk")
    finished = 0
    for subject in pending:
        logger.warning("Finishing the interrupted destruction of subject %s", subject.uuid)
        _destruction_finish(
            subject=subject, actor=None, actor_label="system", reason="resumed after interruption"
        )
        finished += 1
    return finished


# --- Explicit consent and privacy notices (C10) ----------------------------------------

CONSENT_EVIDENCE_TYPES = (b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
EVIDENCE_TOO_LARGE = _("The evidence file is larger than %(limit)s.")
EVIDENCE_WRONG_TYPE = _("The evidence must be a PDF, PNG or JPEG file.")
ALREADY_WITHDRAWN = _("This consent has already been withdrawn.")
NOTICE_TEXT_REQUIRED = _(
    "The title (at most 200 characters) and the text of the privacy notice are required."
)


def evidence_check(*, size: int, content: bytes | None = None) -> None:
    """Refuse consent evidence that is too large, or not a PDF, PNG or JPEG, before storing it."""
    limit = settings.ATTACHMENT_MAX_BYTES
    if size > limit:
        raise RecordErrors(
            {"evidence": [str(EVIDENCE_TOO_LARGE % {"limit": filesizeformat(limit)})]}
        )
    if content is not None and not content.startswith(CONSENT_EVIDENCE_TYPES):
        raise RecordErrors({"evidence": [str(EVIDENCE_WRONG_TYPE)]})


def _consent_folder() -> str:
    return f"{connection.schema_name}/consents"


def consent_record(
    *,
    subject: DataSubject,
    raw: dict[str, Any],
    evidence_name: str = "",
    evidence: bytes | None = None,
    actor: Any = None,
    actor_label: str = "",
    request=None,
) -> Consent:
    """Record a subject's explicit consent for a purpose, with its evidence (C10).

    ``raw`` holds purpose (code), channel, given_at, and optionally withdrawn_at,
    notice_version and evidence_reference, as the API, a CSV row and the portal send them.
    Everything is checked before anything is stored; the evidence file is sealed for the
    subject under the controller's prefix and removed again if the row is not saved. A
    consent recorded as already withdrawn has its withdrawal effects at once.
    """
    if evidence is not None:
        evidence_check(size=len(evidence), content=evidence)
    errors = ErrorCollector()
    checked = consent_check(
        raw=raw,
        inventory=Inventory(),
        path="",
        errors=errors,
        has_evidence_file=evidence is not None,
    )
    if errors.errors:
        raise RecordErrors(errors.errors)
    path = ""
    try:
        with transaction.atomic():
            subject, cipher = _live_subject(subject)
            consent = Consent(
                id=reserve_ids(Consent, 1)[0],
                subject=subject,
                purpose=checked.purpose,
                notice=checked.notice,
                channel=checked.channel,
                given_at=checked.given_at,
                evidence_reference=checked.evidence_reference,
            )
            if evidence is not None:
                consent.evidence_name_enc = cipher.seal(
                    (evidence_name or "evidence")[:MAX_ATTACHMENT_NAME],
                    crypto.CONSENT_EVIDENCE_NAME,
                    consent.pk,
                )
                consent.evidence_size = len(evidence)
                path = default_storage.save(
                    f"{_consent_folder()}/{consent.uuid.hex}.bin",
                    ContentFile(cipher.seal(evidence, crypto.CONSENT_EVIDENCE, consent.pk)),
                )
                consent.evidence_path = path
            consent.save(force_insert=True)
            _consent_given_log(consent, actor=actor, actor_label=actor_label, request=request)
            if checked.withdrawn_at is not None:
                _consent_withdraw(
                    consent=consent,
                    when=checked.withdrawn_at,
                    actor=actor,
                    actor_label=actor_label,
                    request=request,
                )
    except BaseException:
        if path:
            default_storage.delete(path)
        raise
    return consent


def _consent_given_log(consent: Consent, *, actor, actor_label: str, request) -> None:
    audit_entry_create(
        action=Action.CREATE,
        actor=actor,
        actor_label=actor_label,
        target=consent,
        subject_ref=str(consent.subject.uuid),
        purpose=consent.purpose.code,
        request=request,
        detail={
            "event": "consent_given",
            "channel": consent.channel,
            "notice_version": consent.notice.version if consent.notice else None,
        },
    )


def _record_consents_store(
    inputs: Sequence[SubjectInput], subject_ids: Sequence[int], *, actor, actor_label, request
) -> int:
    """The consents that came with ingested records (API bodies, CSV rows): created in bulk,
    with their history; those already withdrawn flag the subject's items at once."""
    pending = [
        (subject_id, consent)
        for inp, subject_id in zip(inputs, subject_ids, strict=True)
        for consent in inp.consents
    ]
    if not pending:
        return 0
    ids = reserve_ids(Consent, len(pending))
    rows = [
        Consent(
            id=consent_id,
            subject_id=subject_id,
            purpose=c.purpose,
            notice=c.notice,
            channel=c.channel,
            given_at=c.given_at,
            withdrawn_at=c.withdrawn_at,
            evidence_reference=c.evidence_reference,
        )
        for consent_id, (subject_id, c) in zip(ids, pending, strict=True)
    ]
    Consent.objects.bulk_create(rows)
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    history_record(Consent, ids, when=timezone.now(), actor_id=actor_id, reason="ingest")
    for consent in rows:
        if consent.withdrawn_at is not None:
            _items_flag(consent, when=consent.withdrawn_at)
    return len(rows)


def consent_withdraw(
    *,
    consent: Consent,
    withdrawn_at: Any = None,
    actor: Any = None,
    actor_label: str = "",
    request=None,
) -> Consent:
    """Withdraw a consent; it takes effect at once (Art. 5(1), C10).

    From then on the register refuses items on explicit consent for that subject and
    purpose (subjects.validation.consent_gate), and transfers relying on it are refused
    (subjects.selectors.consent_valid). The items it covered (same subject and purpose,
    basis explicit consent) are flagged ``consent_withdrawn_at`` unless another valid
    consent still covers them: the retention engine ends them in its next run.
    """
    errors = ErrorCollector()
    when = parse_moment(withdrawn_at, "withdrawn_at", errors) or timezone.now()
    if errors.errors:
        raise RecordErrors(errors.errors)
    with transaction.atomic():
        _live_subject(consent.subject)
        consent = (
            Consent.objects.select_for_update()
            .select_related("purpose", "subject")
            .get(pk=consent.pk)
        )
        if consent.withdrawn_at is not None:
            raise PortalError(ALREADY_WITHDRAWN, code="already_withdrawn", status=409)
        if when < consent.given_at:
            raise RecordErrors({"withdrawn_at": [str(WITHDRAWN_BEFORE_GIVEN)]})
        if when > timezone.now():
            raise RecordErrors({"withdrawn_at": [str(WITHDRAWN_IN_FUTURE)]})
        _consent_withdraw(
            consent=consent, when=when, actor=actor, actor_label=actor_label, request=request
        )
    return consent


def _consent_withdraw(*, consent: Consent, when: datetime, actor, actor_label, request) -> None:
    consent.withdrawn_at = when
    consent.save(update_fields=["withdrawn_at"])
    flagged = _items_flag(consent, when=when, actor=actor)
    audit_entry_create(
        action=Action.UPDATE,
        actor=actor,
        actor_label=actor_label,
        target=consent,
        subject_ref=str(consent.subject.uuid),
        purpose=consent.purpose.code,
        request=request,
        detail={
            "event": "consent_withdrawn",
            "withdrawn_at": when.isoformat(),
            "items_flagged": flagged,
        },
    )


def _items_flag(consent: Consent, *, when: datetime, actor: Any = None) -> list[int]:
    """Flag the items the consent covered for the retention engine, unless another consent
    of the subject for the purpose is still valid. Returns the ids flagged."""
    still_valid = (
        Consent.objects.filter(subject_id=consent.subject_id, purpose_id=consent.purpose_id)
        .exclude(pk=consent.pk)
        .filter(given_at__lte=timezone.now(), withdrawn_at__isnull=True)
        .exists()
    )
    if still_valid:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE subjects_personaldataitem SET consent_withdrawn_at = %s"
            " WHERE subject_id = %s AND purpose_id = %s AND legal_basis = %s"
            " AND deleted_at IS NULL AND consent_withdrawn_at IS NULL RETURNING id",
            [when, consent.subject_id, consent.purpose_id, LegalBasis.EXPLICIT_CONSENT.value],
        )
        flagged = sorted(item_id for (item_id,) in cursor.fetchall())
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    history_record(
        PersonalDataItem,
        flagged,
        when=timezone.now(),
        actor_id=actor_id,
        reason="consent_withdrawn",
        change=True,
    )
    return flagged


def refusals_log(
    exc: ConsentRefused, *, actor: Any = None, actor_label: str = "", request=None
) -> None:
    """Write the consent gate's refusals to the processing log, once (Art. 12, C10).

    Called where the refused write has rolled back, so the entry stays: by the services
    themselves when they ran outside any transaction, else by the caller that opened it
    (the API's idempotent writes, the CSV import).
    """
    if exc.logged:
        return
    exc.logged = True
    subject_uuids = dict(
        DataSubject.objects.filter(
            pk__in={r.subject_id for r in exc.refusals if r.subject_id}
        ).values_list("pk", "uuid")
    )
    refused = [
        {
            "subject": str(subject_uuids.get(r.subject_id, "new")),
            "category": r.category,
            "purpose": r.purpose,
            "reason": r.reason,
        }
        for r in exc.refusals
    ]
    audit_entry_create(
        action=Action.CREATE,
        actor=actor,
        actor_label=actor_label,
        request=request,
        subject_ref=refused[0]["subject"] if len({r["subject"] for r in refused}) == 1 else "",
        purpose=", ".join(sorted({r.purpose for r in exc.refusals}))[:255],
        detail={"event": "consent_gate_refused", "outcome": "refused", "items": refused[:100]},
    )


# Set by a caller whose own transaction rolls back with a refused write (an idempotent API
# write, an all-or-nothing CSV import): it logs the refusal itself once that has happened.
_REFUSALS_DEFERRED: ContextVar[bool] = ContextVar("refusals_deferred", default=False)


@contextmanager
def refusals_log_deferred():
    """Within: the services leave the logging of consent-gate refusals to the caller."""
    token = _REFUSALS_DEFERRED.set(True)
    try:
        yield
    finally:
        _REFUSALS_DEFERRED.reset(token)


def _log_refusal_when_outside(exc: ConsentRefused, **actor) -> None:
    """Log a refusal once the service's own transaction has rolled back, unless deferred."""
    if not _REFUSALS_DEFERRED.get():
        refusals_log(exc, **actor)


@contextmanager
def _consent_refusal_logged(*, actor, actor_label: str, request):
    """A write's own transaction: a consent-gate refusal rolls the write back, then is
    logged outside it (unless a caller deferred the logging), and raised again."""
    try:
        with transaction.atomic():
            yield
    except ConsentRefused as exc:
        _log_refusal_when_outside(exc, actor=actor, actor_label=actor_label, request=request)
        raise


def consent_evidence_export(
    *, consent: Consent, purpose: str, actor: Any = None, request=None
) -> tuple[str, bytes]:
    """Decrypt a consent's evidence for download; the export is logged with its purpose."""
    subject = consent.subject
    usable = consent.evidence_path and not subject.is_shredded
    cipher = crypto.subject_cipher_of(subject) if usable else None
    if cipher is None:
        raise Consent.DoesNotExist
    with default_storage.open(consent.evidence_path) as handle:
        content = cipher.open_bytes(handle.read(), crypto.CONSENT_EVIDENCE, consent.pk)
    name = cipher.open(consent.evidence_name_enc, crypto.CONSENT_EVIDENCE_NAME, consent.pk)
    audit_entry_create(
        action=Action.EXPORT,
        actor=actor,
        target=consent,
        subject_ref=str(subject.uuid),
        purpose=purpose,
        request=request,
        detail={"event": "consent_evidence_download", "bytes": len(content)},
    )
    export_announce(
        subject_ids=[subject.pk],
        category_ids=[],
        label="consent_evidence_download",
        actor=actor,
        request=request,
    )
    return name, content


@transaction.atomic
def notice_publish(*, title: str, text: str, actor: Any = None, request=None) -> PrivacyNotice:
    """Publish a new version of the privacy notice; earlier versions stay as they were."""
    title, text = (title or "").strip(), (text or "").strip()
    if not title or not text or len(title) > 200:
        raise RecordErrors({"text": [str(NOTICE_TEXT_REQUIRED)]})
    # one publisher at a time: version numbers never collide
    with connection.cursor() as cursor:
        cursor.execute("LOCK TABLE subjects_privacynotice IN EXCLUSIVE MODE")
    last = PrivacyNotice.objects.order_by("-version").values_list("version", flat=True).first()
    notice = PrivacyNotice.objects.create(
        version=(last or 0) + 1,
        title=title,
        text=text,
        published_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_entry_create(
        action=Action.CREATE,
        actor=actor,
        target=notice,
        request=request,
        detail={"event": "privacy_notice_published", "version": notice.version},
    )
    return notice
