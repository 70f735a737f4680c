"""Writes to the personal-data register (KVKK Art. 4, 5, 6, 12; commitments C1, C2, C10).

Every write is checked first (subjects.validation). Values are encrypted with
the subject's data key before they reach the database (subjects/crypto.py),
and identifiers are stored with a blind index only. Every write appends to
the processing log.
"""

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import Action
from audit.services import audit_entry_create
from config.errors import PortalError
from subjects.bulk import copy_rows, history_record, reserve_ids
from subjects.crypto import SubjectCipher, keyring, subject_cipher_of
from subjects.models import (
    DataSubject,
    IdentifierKind,
    Interaction,
    PersonalDataItem,
    ProcessingPurpose,
    SubjectGroup,
    SubjectIdentifier,
    SubjectKey,
)
from subjects.validation import (
    LAST_USED_BEFORE_COLLECTED,
    MAX_VALUE,
    VALUE_REQUIRED,
    ErrorCollector,
    Inventory,
    RecordErrors,
    SubjectInput,
    item_check,
    items_validate,
)

IDENTIFIERS_CONFLICT = _("These identifiers belong to different data subjects.")
IDENTIFIER_DIFFERS = _("The data subject already has a different %(kind)s.")
DUPLICATE_IN_BATCH = _("The same identifier appears in more than one record of this batch.")
SUBJECT_DESTROYED = _("This data subject's data has been destroyed; nothing can be added.")
IDENTIFIER_TAKEN = _("This %(kind)s already belongs to another data subject.")
ATTACHMENT_TOO_LARGE = _("The attachment is larger than %(limit)s MB.")

MAX_ATTACHMENT_MB = 10


@dataclass(frozen=True)
class IngestResult:
    """What one register_ingest call did: the subjects' uuids (created, then extended) and items."""

    created: list[uuid.UUID]
    matched: list[uuid.UUID]
    items: int

    @property
    def subjects(self) -> list[uuid.UUID]:
        return self.created + self.matched


# --- Bulk ingestion ----------------------------------------------------------------------
# Rows go in with COPY: one round trip per table per batch. Callers send batches of
# at most settings.API_BULK_MAX_SUBJECTS subjects, so one batch's ciphertexts stay a
# few MB in memory and a failed batch rolls back as a whole. Items are encrypted while
# their COPY streams, so PostgreSQL stores one part while Python seals the next.

SUBJECT_COLUMNS = ("id", "uuid", "group_id", "name_enc", "created_at", "updated_at")
KEY_COLUMNS = ("subject_id", "wrapped_key")
IDENTIFIER_COLUMNS = ("subject_id", "kind", "value_enc", "blind_index")
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


@transaction.atomic
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
    subject; otherwise a new subject is created with a fresh data key.
    """
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
        cursor.execute(
            _OWNERS_SQL,
            [all_bis],
        )
        for bi, subject_id, kind in cursor.fetchall():
            owners[bytes(bi)] = (subject_id, kind)
    matched_ids: list[int | None] = []
    for position, bis in enumerate(indexed):
        found = {owners[bi][0] for bi in bis.values() if bi in owners}
        if len(found) > 1:
            errors.add(f"subjects[{position}].identifiers", IDENTIFIERS_CONFLICT)
        matched_ids.append(next(iter(found)) if len(found) == 1 else None)
    existing = (
        DataSubject.objects.select_related("key").in_bulk([sid for sid in matched_ids if sid])
        if any(matched_ids)
        else {}
    )
    existing_kinds: dict[int, set[str]] = {}
    for subject_id, kind in SubjectIdentifier.objects.filter(
        subject_id__in=list(existing)
    ).values_list("subject_id", "kind"):
        existing_kinds.setdefault(subject_id, set()).add(kind)
    for position, subject_id in enumerate(matched_ids):
        if subject_id is None:
            continue
        if existing[subject_id].is_shredded:
            errors.add(f"subjects[{position}]", SUBJECT_DESTROYED)
        for kind, bi in indexed[position].items():
            if bi not in owners and kind in existing_kinds.get(subject_id, set()):
                errors.add(
                    f"subjects[{position}].identifiers.{kind}",
                    IDENTIFIER_DIFFERS % {"kind": IdentifierKind(kind).label},
                )
    if errors.errors:
        raise RecordErrors(errors.errors)

    now = timezone.now()
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    reason = f"ingest:{source}"
    new_ids = iter(reserve_ids(DataSubject, matched_ids.count(None)))
    subject_rows, key_rows, identifier_rows = [], [], []
    created, matched, targets = [], [], []
    for position, inp in enumerate(inputs):
        subject_id = matched_ids[position]
        if subject_id is None:
            subject_uuid = uuid.uuid4()
            cipher, wrapped = ring.new_subject_key(str(subject_uuid))
            subject_id = next(new_ids)
            subject_rows.append(
                (subject_id, subject_uuid, inp.group.id, cipher.encrypt(inp.name), now, now)
            )
            key_rows.append((subject_id, wrapped))
            created.append(subject_uuid)
        else:
            subject = existing[subject_id]
            cipher = ring.subject_cipher(bytes(subject.key.wrapped_key), str(subject.uuid))
            matched.append(subject.uuid)
        targets.append((subject_id, cipher))
        for kind, value in inp.identifiers.items():
            bi = indexed[position][kind]
            if bi not in owners:
                identifier_rows.append((subject_id, kind, cipher.encrypt(value), bi))
    if subject_rows:
        copy_rows(DataSubject, SUBJECT_COLUMNS, subject_rows)
        history_record(
            DataSubject,
            [row[0] for row in subject_rows],
            when=now,
            actor_id=actor_id,
            reason=reason,
        )
        copy_rows(SubjectKey, KEY_COLUMNS, key_rows)
    if identifier_rows:
        copy_rows(SubjectIdentifier, IDENTIFIER_COLUMNS, identifier_rows)
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
            "subjects_digest": _digest(str(u) for u in created + matched),
        },
    )
    return IngestResult(created=created, matched=matched, items=len(item_ids))


def _item_rows(
    inputs: Sequence[SubjectInput], targets: list[tuple[int, Any]], ids: list[int], now: datetime
) -> Iterable[tuple]:
    """Item rows in ITEM_COLUMNS order, each value sealed under its subject's key as it is sent."""
    next_id = iter(ids).__next__
    for inp, (subject_id, cipher) in zip(inputs, targets, strict=True):
        encrypt = cipher.encrypt
        for item in inp.items:
            yield (
                next_id(),
                subject_id,
                item.category.id,
                item.purpose.id,
                item.legal_basis,
                item.source_system,
                encrypt(item.value),
                item.collected_at,
                item.last_used_at,
                now,
            )


# --- Single-subject writes -------------------------------------------------------------


def _subject_cipher(subject: DataSubject) -> SubjectCipher:
    cipher = subject_cipher_of(subject)
    if cipher is None:
        raise PortalError(SUBJECT_DESTROYED, code="subject_destroyed")
    return cipher


@transaction.atomic
def subject_update(
    *,
    subject: DataSubject,
    name: str | None = None,
    group: SubjectGroup | None = None,
    identifiers: dict[str, str] | None = None,
    actor: Any = None,
    actor_label: str = "",
    request=None,
) -> DataSubject:
    """Correct a subject's name, group or identifiers (Art. 11(1)(d) corrections use this too)."""
    subject = DataSubject.objects.select_for_update().get(pk=subject.pk)
    cipher = _subject_cipher(subject)
    changed = []
    if name is not None:
        subject.name_enc = cipher.encrypt(name)
        changed.append("name")
    if group is not None and group.pk != subject.group_id:
        subject.group = group
        changed.append("group")
    ring = keyring()
    for kind, value in (identifiers or {}).items():
        bi = ring.blind_index(kind, value)
        owner = SubjectIdentifier.objects.filter(blind_index=bi).exclude(subject=subject).exists()
        if owner:
            raise PortalError(
                IDENTIFIER_TAKEN % {"kind": IdentifierKind(kind).label},
                code="identifier_taken",
                field=kind,
            )
        SubjectIdentifier.objects.update_or_create(
            subject=subject,
            kind=kind,
            defaults={"value_enc": cipher.encrypt(value), "blind_index": bi},
        )
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


@transaction.atomic
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
    """Change one item; the same inventory checks as on creation apply."""
    item = (
        PersonalDataItem.objects.select_related("subject", "category", "purpose")
        .select_for_update()
        .get(pk=item.pk)
    )
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
    changed = []
    if value is not None:
        item.value_enc = _subject_cipher(item.subject).encrypt(value)
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
        subject_ref=str(item.subject.uuid),
        purpose=item.purpose.code,
        detail={"fields": changed},
        request=request,
    )
    return item


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
    """Record a customer-service interaction; text and attachment are encrypted for the subject."""
    cipher = _subject_cipher(subject)
    interaction = Interaction(
        subject=subject,
        kind=kind,
        purpose=purpose,
        occurred_at=occurred_at,
        text_enc=cipher.encrypt(text),
    )
    if attachment is not None:
        if len(attachment) > MAX_ATTACHMENT_MB * 1024 * 1024:
            raise PortalError(
                ATTACHMENT_TOO_LARGE % {"limit": MAX_ATTACHMENT_MB},
                code="too_large",
                field="attachment",
            )
        # Files live under the tenant's own prefix and hold only ciphertext.
        path = f"{connection.schema_name}/interactions/{uuid.uuid4().hex}.bin"
        interaction.attachment_path = default_storage.save(
            path, ContentFile(cipher.encrypt(attachment))
        )
        interaction.attachment_name_enc = cipher.encrypt(attachment_name or "attachment")
        interaction.attachment_size = len(attachment)
    interaction.full_clean(exclude=["text_enc", "attachment_name_enc"])
    interaction.save()
    audit_entry_create(
        action=Action.CREATE,
        actor=actor,
        actor_label=actor_label,
        target=interaction,
        subject_ref=str(subject.uuid),
        purpose=purpose.code,
        request=request,
    )
    return interaction


@transaction.atomic
def subject_key_destroy(
    *, subject: DataSubject, actor: Any = None, actor_label: str = "", reason: str
) -> DataSubject:
    """Crypto-shred a subject (imha): its data key and identifiers go, every value becomes unreadable.

    The retention engine calls this to destroy; rows may stay for referential
    integrity (C2) but hold only ciphertext nobody can open — in backups too.
    """
    subject = DataSubject.objects.select_for_update().get(pk=subject.pk)
    if subject.is_shredded:
        return subject
    SubjectIdentifier.objects.filter(subject=subject).delete()
    SubjectKey.objects.filter(subject=subject).delete()
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
    return subject


@transaction.atomic
def items_add(
    *,
    subject: DataSubject,
    raw_items: list[dict[str, Any]],
    actor: Any = None,
    actor_label: str = "",
    request=None,
) -> list[PersonalDataItem]:
    """Add items to one subject, checked against the inventory like every other write."""
    errors = ErrorCollector()
    checked = items_validate(raw_items=raw_items, inventory=Inventory(), path="", errors=errors)
    if errors.errors:
        raise RecordErrors({path.removeprefix("."): msgs for path, msgs in errors.errors.items()})
    cipher = _subject_cipher(subject)
    items = [
        PersonalDataItem(
            subject=subject,
            category=item.category,
            purpose=item.purpose,
            legal_basis=item.legal_basis,
            source_system=item.source_system,
            value_enc=cipher.encrypt(item.value),
            collected_at=item.collected_at,
            last_used_at=item.last_used_at,
        )
        for item in checked
    ]
    for item in items:
        item.save()
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
