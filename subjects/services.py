"""Writes to the personal-data register (KVKK Art. 4, 5, 6, 12; commitments C1, C2, C10).

Every write checks the inventory first: a purpose that is not declared is
refused (C1); a special category needs explicit consent or an Art. 6(3)
ground (C10). Values are encrypted with the subject's data key before they
reach the database (subjects/crypto.py), and identifiers are stored with a
blind index only. Every write appends to the processing log.
"""

import functools
import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from audit.models import Action
from audit.services import audit_entry_create
from config.errors import PortalError
from config.kvkk import ORDINARY_CATEGORY_BASES, SPECIAL_CATEGORY_BASES, LegalBasis
from subjects import validators
from subjects.crypto import SubjectCipher, keyring, subject_cipher_of
from subjects.models import (
    DataCategory,
    DataSubject,
    IdentifierKind,
    Interaction,
    PersonalDataItem,
    ProcessingPurpose,
    SubjectGroup,
    SubjectIdentifier,
    SubjectKey,
)

# Messages never repeat the offending value: a CSV file with a shifted column would put a
# TCKN or a name there, and CSV row errors are stored (CsvImport.row_errors, its report).
UNKNOWN_GROUP = _("Unknown subject group; use a group code from the inventory.")
UNKNOWN_CATEGORY = _("Unknown data category; declare it in the inventory first.")
UNDECLARED_PURPOSE = _(
    "This purpose is not declared in the inventory; data cannot be processed for it."
)
UNKNOWN_BASIS = _("Unknown legal basis code.")
SPECIAL_NEEDS_CONSENT = _(
    "“%(category)s” is a special category of personal data: it needs explicit consent or an "
    "Art. 6(3) statutory ground."
)
STATUTORY_ONLY_SPECIAL = _(
    "The Art. 6(3) ground applies only to special categories of personal data."
)
NAME_REQUIRED = _("The name is required (at most 200 characters).")
IDENTIFIER_REQUIRED = _(
    "At least one identifier (TCKN, passport, e-mail, phone or customer no.) is required."
)
UNKNOWN_IDENTIFIER = _("Unknown identifier kind “%(kind)s”.")
VALUE_REQUIRED = _("The value is required (at most 10,000 characters).")
SOURCE_REQUIRED = _("The source system is required (at most 80 characters).")
COLLECTED_IN_FUTURE = _("The collection time cannot be in the future.")
LAST_USED_BEFORE_COLLECTED = _("Last use cannot be earlier than collection.")
IDENTIFIERS_CONFLICT = _("These identifiers belong to different data subjects.")
IDENTIFIER_DIFFERS = _("The data subject already has a different %(kind)s.")
DUPLICATE_IN_BATCH = _("The same identifier appears in more than one record of this batch.")
SUBJECT_DESTROYED = _("This data subject's data has been destroyed; nothing can be added.")
IDENTIFIER_TAKEN = _("This %(kind)s already belongs to another data subject.")
INVALID_MOMENT = _("Enter a date and time such as 2025-03-01T10:00:00+03:00.")
ATTACHMENT_TOO_LARGE = _("The attachment is larger than %(limit)s MB.")

# Enum .values rebuilds a list on every call; the hot validation path checks sets.
_IDENTIFIER_KINDS = frozenset(IdentifierKind.values)
_LEGAL_BASES = frozenset(LegalBasis.values)

MAX_NAME = 200
MAX_VALUE = 10_000
MAX_SOURCE = 80
MAX_ATTACHMENT_MB = 10

NORMALIZERS = {
    IdentifierKind.TCKN: validators.normalize_tckn,
    IdentifierKind.PASSPORT: validators.normalize_passport,
    IdentifierKind.EMAIL: validators.normalize_email,
    IdentifierKind.PHONE: validators.normalize_phone,
    IdentifierKind.CUSTOMER_NO: validators.normalize_customer_no,
}


class RecordErrors(PortalError):
    """Validation failed; ``errors`` maps a field path (``subjects[3].items[0].purpose``) to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        first_path, first = next(iter(errors.items()))
        super().__init__(first[0], code="invalid", field=first_path)
        self.errors = errors


@dataclass
class ItemInput:
    category: DataCategory
    purpose: ProcessingPurpose
    legal_basis: str
    source_system: str
    value: str
    collected_at: datetime
    last_used_at: datetime | None = None


@dataclass
class SubjectInput:
    group: SubjectGroup
    name: str
    identifiers: dict[str, str]  # kind → normalised value
    items: list[ItemInput] = field(default_factory=list)


@dataclass(frozen=True)
class IngestResult:
    """What one register_ingest call did: the subjects' uuids (created, then extended) and items."""

    created: list[uuid.UUID]
    matched: list[uuid.UUID]
    items: int

    @property
    def subjects(self) -> list[uuid.UUID]:
        return self.created + self.matched


class Inventory:
    """The controller's declared groups, categories and purposes, loaded once per call."""

    def __init__(self) -> None:
        self.groups = {group.code: group for group in SubjectGroup.objects.all()}
        self.categories = {category.code: category for category in DataCategory.objects.all()}
        self.purposes = {
            purpose.code: purpose for purpose in ProcessingPurpose.objects.filter(is_active=True)
        }
        # (category, purpose, basis) triples item_check() has passed, with their purpose
        self.checked: dict[tuple[str, Any, Any], ProcessingPurpose] = {}


class ErrorCollector:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, message: Any) -> None:
        self.errors.setdefault(path, []).append(str(message))


def _clean_text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if 0 < len(value) <= limit else None


def identifiers_normalize(
    raw: dict[str, Any], *, path: str, errors: ErrorCollector
) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for kind, value in (raw or {}).items():
        if kind not in _IDENTIFIER_KINDS:
            errors.add(f"{path}.{kind}", UNKNOWN_IDENTIFIER % {"kind": kind})
            continue
        if value in (None, ""):
            continue
        try:
            cleaned[kind] = NORMALIZERS[kind](str(value))
        except ValidationError as exc:
            errors.add(f"{path}.{kind}", exc.messages[0])
    return cleaned


def identifiers_clean(raw: dict[str, Any]) -> dict[str, str]:
    """Normalised identifiers of one subject, or RecordErrors naming each bad one."""
    errors = ErrorCollector()
    cleaned = identifiers_normalize(raw, path="identifiers", errors=errors)
    if errors.errors:
        raise RecordErrors(errors.errors)
    return cleaned


def purpose_declared(code: str) -> ProcessingPurpose:
    """The active, declared purpose with this code; anything else is refused (C1)."""
    purpose = ProcessingPurpose.objects.filter(code=code, is_active=True).first()
    if purpose is None:
        raise RecordErrors({"purpose": [str(UNDECLARED_PURPOSE)]})
    return purpose


def group_get(code: str) -> SubjectGroup:
    group = SubjectGroup.objects.filter(code=code).first()
    if group is None:
        raise RecordErrors({"group": [str(UNKNOWN_GROUP)]})
    return group


def item_check(
    *,
    category: DataCategory,
    purpose_code: str,
    basis: str,
    inventory: Inventory,
    path: str,
    errors: ErrorCollector,
) -> ProcessingPurpose | None:
    """Purpose declared (C1) and a basis that fits the category (Art. 5 / Art. 6, C10)."""
    purpose = inventory.purposes.get(purpose_code)
    if purpose is None:
        errors.add(f"{path}.purpose", UNDECLARED_PURPOSE)
    if basis not in _LEGAL_BASES:
        errors.add(f"{path}.legal_basis", UNKNOWN_BASIS)
    elif category.is_special and basis not in SPECIAL_CATEGORY_BASES:
        errors.add(f"{path}.legal_basis", SPECIAL_NEEDS_CONSENT % {"category": category.name})
    elif not category.is_special and basis not in ORDINARY_CATEGORY_BASES:
        errors.add(f"{path}.legal_basis", STATUTORY_ONLY_SPECIAL)
    return purpose


def _moment(value: Any, path: str, errors: ErrorCollector) -> datetime | None:
    """A timestamp from the API (already parsed) or a CSV cell (ISO 8601 text)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    parsed = parse_datetime(str(value).strip()) if isinstance(value, str) else None
    if parsed is None:
        errors.add(path, INVALID_MOMENT)
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def items_validate(
    raw_items: Sequence[dict[str, Any]], *, inventory: Inventory, path: str, errors: ErrorCollector
) -> list[ItemInput]:
    """Check items against the inventory; collect errors under ``<path>.items[i]``."""
    items = []
    now = timezone.now()
    checked = inventory.checked
    for index, raw in enumerate(raw_items):
        before = len(errors.errors)
        category = inventory.categories.get(raw.get("category"))
        if category is None:
            errors.add(f"{path}.items[{index}].category", UNKNOWN_CATEGORY)
            continue
        basis = raw.get("legal_basis")
        # A batch repeats few (category, purpose, basis) triples: each is judged once.
        triple = (category.code, raw.get("purpose"), basis)
        purpose = checked.get(triple)
        if purpose is None:
            purpose = item_check(
                category=category,
                purpose_code=raw.get("purpose"),
                basis=basis,
                inventory=inventory,
                path=f"{path}.items[{index}]",
                errors=errors,
            )
            if purpose is not None and len(errors.errors) == before:
                checked[triple] = purpose
        value = raw.get("value")
        if not (isinstance(value, str) and 0 < len(value) <= MAX_VALUE):
            value = None
            errors.add(f"{path}.items[{index}].value", VALUE_REQUIRED)
        source = _clean_text(raw.get("source_system"), MAX_SOURCE)
        if source is None:
            errors.add(f"{path}.items[{index}].source_system", SOURCE_REQUIRED)
        collected = raw.get("collected_at")
        if not isinstance(collected, datetime):
            collected = _moment(collected, f"{path}.items[{index}].collected_at", errors) or now
        last_used = raw.get("last_used_at")
        if last_used is not None and not isinstance(last_used, datetime):
            last_used = _moment(last_used, f"{path}.items[{index}].last_used_at", errors)
        if collected > now:
            errors.add(f"{path}.items[{index}].collected_at", COLLECTED_IN_FUTURE)
        if last_used is not None and last_used < collected:
            errors.add(f"{path}.items[{index}].last_used_at", LAST_USED_BEFORE_COLLECTED)
        if len(errors.errors) == before:
            items.append(ItemInput(category, purpose, basis, source, value, collected, last_used))
    return items


def record_validate(
    record: dict[str, Any], *, inventory: Inventory, path: str, errors: ErrorCollector
) -> SubjectInput | None:
    """Turn one raw record (API JSON or CSV row) into a checked SubjectInput, or collect errors."""
    before = len(errors.errors)
    group = inventory.groups.get(record.get("group"))
    if group is None:
        errors.add(f"{path}.group", UNKNOWN_GROUP)
    name = _clean_text(record.get("name"), MAX_NAME)
    if name is None:
        errors.add(f"{path}.name", NAME_REQUIRED)
    identifiers = identifiers_normalize(
        record.get("identifiers") or {}, path=f"{path}.identifiers", errors=errors
    )
    if not identifiers and not any(key.startswith(f"{path}.identifiers") for key in errors.errors):
        errors.add(f"{path}.identifiers", IDENTIFIER_REQUIRED)
    items = items_validate(record.get("items") or [], inventory=inventory, path=path, errors=errors)
    if len(errors.errors) > before:
        return None
    return SubjectInput(group=group, name=name, identifiers=identifiers, items=items)


def records_validate(
    records: Sequence[dict[str, Any]], *, prefix: str = "subjects"
) -> list[SubjectInput]:
    """Validate a whole batch; raise RecordErrors with every problem, or return the inputs."""
    inventory, errors = Inventory(), ErrorCollector()
    inputs = [
        record_validate(r, inventory=inventory, path=f"{prefix}[{i}]", errors=errors)
        for i, r in enumerate(records)
    ]
    if errors.errors:
        raise RecordErrors(errors.errors)
    return inputs


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


def _pg_type(field: models.Field) -> str:
    """The type name psycopg's binary COPY wants for a model field."""
    name = field.db_type(connection).split("(")[0].strip()
    return {"timestamp with time zone": "timestamptz", "integer": "int4"}.get(name, name)


@functools.cache
def _copy_statement(model: type[models.Model], columns: tuple[str, ...]) -> tuple[str, list[str]]:
    fields = [model._meta.get_field(name) for name in columns]
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN (FORMAT BINARY)"
    return sql, [_pg_type(field) for field in fields]


def _copy(model: type[models.Model], columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """COPY rows in binary format: ciphertexts travel as bytes, not as escaped hex text.

    ``rows`` may be a generator: psycopg sends every 32 kB it fills, so the
    server inserts while the generator computes the rest.
    """
    sql, types = _copy_statement(model, columns)
    with (
        connection.wrap_database_errors,  # IntegrityError etc., as for any Django query
        connection.cursor() as cursor,
        cursor.cursor.copy(sql) as copy,
    ):
        copy.set_types(types)
        write = copy.write_row
        for row in rows:
            write(row)


@functools.cache
def _history_statement(model: type[models.Model]) -> str:
    """INSERT … SELECT of creation records ("+") for rows just inserted, done by the server."""
    quote = connection.ops.quote_name
    historical = model.history.model
    own = {f.name for f in model._meta.concrete_fields}
    tracked = [
        f.column
        for f in historical._meta.concrete_fields
        if f.name in own and not f.name.startswith("history_")
    ]
    columns = ", ".join(quote(column) for column in tracked)
    marks = ", ".join(
        quote(historical._meta.get_field(name).column)
        for name in ("history_date", "history_type", "history_user", "history_change_reason")
    )
    return (
        f"INSERT INTO {quote(historical._meta.db_table)} ({columns}, {marks})"  # noqa: S608
        f" SELECT {columns}, %s, '+', %s, %s FROM {quote(model._meta.db_table)}"
        " WHERE id = ANY(%s)"
    )


def _history_record(
    model: type[models.Model], ids: list[int], *, when: datetime, actor_id: int | None, reason: str
) -> None:
    """The same creation records simple-history writes, copied from the stored rows."""
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(_history_statement(model), [when, actor_id, reason, ids])


# The table name is the model's own, never input.
_OWNERS_SQL = (
    f'SELECT blind_index, subject_id, kind FROM "{SubjectIdentifier._meta.db_table}"'  # noqa: S608
    " WHERE blind_index = ANY(%s)"
)


def _reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` ids from the table's own sequence (one array: far cheaper than ``count`` rows)."""
    if count == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            # MATERIALIZED: otherwise the sequence's name is looked up again for every id.
            "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq)"
            " SELECT array_agg(nextval(seq)) FROM s, generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return cursor.fetchone()[0]


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
    new_ids = iter(_reserve_ids(DataSubject, matched_ids.count(None)))
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
        _copy(DataSubject, SUBJECT_COLUMNS, subject_rows)
        _history_record(
            DataSubject,
            [row[0] for row in subject_rows],
            when=now,
            actor_id=actor_id,
            reason=reason,
        )
        _copy(SubjectKey, KEY_COLUMNS, key_rows)
    if identifier_rows:
        _copy(SubjectIdentifier, IDENTIFIER_COLUMNS, identifier_rows)
    item_ids = _reserve_ids(PersonalDataItem, sum(len(inp.items) for inp in inputs))
    if item_ids:
        _copy(PersonalDataItem, ITEM_COLUMNS, _item_rows(inputs, targets, item_ids, now))
        _history_record(PersonalDataItem, item_ids, when=now, actor_id=actor_id, reason=reason)
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
    checked = items_validate(raw_items, inventory=Inventory(), path="", errors=errors)
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


# A typical customer-service / CRM processor's inventory, offered to new controllers
# and used by the demo; controllers edit it to match their VERBIS entry.
STARTER_GROUPS = [
    ("customer", _("Customers")),
    ("prospect", _("Prospects")),
    ("employee", _("Employees")),
    ("supplier_contact", _("Supplier contacts")),
    ("visitor", _("Visitors")),
]
STARTER_CATEGORIES = [
    ("identity", _("Identity"), ""),
    ("contact", _("Contact"), ""),
    ("customer_transaction", _("Customer transaction"), ""),
    ("marketing", _("Marketing"), ""),
    ("location", _("Location"), ""),
    ("health", _("Health"), "health"),
]
STARTER_PURPOSES = [
    ("customer_service", _("Conducting customer-service activities")),
    ("contract", _("Performing contracts with customers")),
    ("complaints", _("Handling requests and complaints")),
    ("marketing", _("Marketing of products and services")),
]


@transaction.atomic
def inventory_starter_create(*, language: str = "tr") -> None:
    """Create the starter inventory where its codes are missing (idempotent), named in ``language``."""
    with translation.override(language):
        _inventory_starter_create()


def _inventory_starter_create() -> None:
    for code, name in STARTER_GROUPS:
        SubjectGroup.objects.get_or_create(code=code, defaults={"name": str(name)})
    for code, name, special in STARTER_CATEGORIES:
        DataCategory.objects.get_or_create(
            code=code, defaults={"name": str(name), "special_category": special}
        )
    for code, name in STARTER_PURPOSES:
        ProcessingPurpose.objects.get_or_create(code=code, defaults={"name": str(name)})
