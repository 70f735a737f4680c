"""Checks every write to the register makes first (KVKK Art. 4, 5, 6; commitments C1, C10).

A purpose that is not declared is refused (C1); a special category needs
explicit consent or an Art. 6(3) ground (C10); identifiers are normalised
before they are hashed. Raw records come from the API (JSON) and CSV rows
alike, so a CSV can do nothing the API could not.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from config.errors import PortalError
from config.kvkk import ORDINARY_CATEGORY_BASES, SPECIAL_CATEGORY_BASES, LegalBasis
from subjects import validators
from subjects.models import (
    Consent,
    ConsentChannel,
    DataCategory,
    IdentifierKind,
    PrivacyNotice,
    ProcessingPurpose,
    SubjectGroup,
)

# Messages never repeat the offending value: a CSV file with a shifted column would put a
# TCKN or a name there, and CSV row errors are stored (CsvImport.row_errors, its report).
# They list what is allowed instead: codes of the inventory and of the law are no personal data.
UNKNOWN_GROUP = _("Unknown subject group. Use a group code of the inventory: %(codes)s.")
UNKNOWN_CATEGORY = _(
    "Unknown data category. Use a category code of the inventory: %(codes)s. A controller "
    "admin adds it first under Subjects → Inventory → Data categories → Add, and gives it a "
    "retention rule under Retention → Retention rules."
)
UNDECLARED_PURPOSE = _(
    "This purpose is not declared in the inventory; data cannot be processed for it. "
    "Declared purposes: %(codes)s."
)
UNKNOWN_BASIS = _("Unknown legal basis code. Use one of: %(codes)s.")
SPECIAL_NEEDS_CONSENT = _(
    "“%(category)s” is a special category of personal data: it needs explicit consent or an "
    "Art. 6(3) statutory ground."
)
STATUTORY_ONLY_SPECIAL = _(
    "The Art. 6(3) ground applies only to special categories of personal data."
)
# The gate of explicit consent (Art. 5(1), 6(3), C10): checked against the consent records.
SPECIAL_WITHOUT_CONSENT = _(
    "“%(category)s” is a special category of personal data: the data subject has no valid "
    "explicit consent for this purpose. Record the consent first, or cite an Art. 6(3) "
    "statutory ground."
)
CONSENT_WITHDRAWN = _(
    "The data subject has withdrawn the explicit consent for this purpose: no data can be "
    "processed on it any more."
)
UNKNOWN_CHANNEL = _("Unknown channel. Use one of: %(codes)s.")
GIVEN_REQUIRED = _(
    "The time the consent was given is required. Enter it as 2025-03-01T10:00:00+03:00."
)
GIVEN_IN_FUTURE = _("A consent cannot be given in the future.")
WITHDRAWN_BEFORE_GIVEN = _("A consent cannot be withdrawn before it was given.")
WITHDRAWN_IN_FUTURE = _("The withdrawal cannot be in the future.")
UNKNOWN_NOTICE = _("Unknown privacy notice version. Published versions: %(codes)s.")
NO_NOTICES = _("(none published yet)")
EVIDENCE_REQUIRED = _(
    "Give the evidence of the consent: upload the signed form or recording, or enter a "
    "reference (form number, call recording id)."
)
EVIDENCE_REFERENCE_TOO_LONG = _("The evidence reference is at most 200 characters.")
MAX_EVIDENCE_REFERENCE = 200
NAME_REQUIRED = _("The name is required (at most 200 characters).")
IDENTIFIER_REQUIRED = _(
    "At least one identifier (TCKN, passport, e-mail, phone or customer no.) is required."
)
UNKNOWN_IDENTIFIER = _("Unknown identifier kind “%(kind)s”.")
VALUE_REQUIRED = _("The value is required (at most 10,000 characters).")
SOURCE_REQUIRED = _("The source system is required (at most 80 characters).")
# The retention period counts from collection (Art. 7): a missing time is never replaced by
# the time of the write, which would restart the clock.
COLLECTED_REQUIRED = _(
    "The collection time is required: the retention period counts from it. "
    "Enter it as 2025-03-01T10:00:00+03:00."
)
COLLECTED_IN_FUTURE = _("The collection time cannot be in the future.")
# Retention periods may count from it (Art. 7); a relationship cannot end in the future.
RELATIONSHIP_END_IN_FUTURE = _("The end of the customer relationship cannot be in the future.")
LAST_USED_BEFORE_COLLECTED = _("Last use cannot be earlier than collection.")
INVALID_MOMENT = _("Enter an existing date and time such as 2025-03-01T10:00:00+03:00.")
NO_CODES = _("(none declared yet)")

# Enum .values rebuilds a list on every call; the hot validation path checks sets.
_IDENTIFIER_KINDS = frozenset(IdentifierKind.values)
_LEGAL_BASES = frozenset(LegalBasis.values)

MAX_NAME = 200
MAX_VALUE = 10_000
MAX_SOURCE = 80
MAX_INTERACTION_TEXT = 50_000
MAX_ATTACHMENT_NAME = 200


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
class ConsentInput:
    purpose: ProcessingPurpose
    channel: str
    given_at: datetime
    withdrawn_at: datetime | None = None
    notice: PrivacyNotice | None = None
    evidence_reference: str = ""

    def valid_at(self, at: datetime) -> bool:
        return self.given_at <= at and (self.withdrawn_at is None or self.withdrawn_at > at)


@dataclass
class SubjectInput:
    group: SubjectGroup
    name: str
    identifiers: dict[str, str]  # kind → normalised value
    items: list[ItemInput] = field(default_factory=list)
    # When the customer relationship ended; ``relationship_given`` tells "not sent" (keep the
    # stored date) from null (clear it).
    relationship_ended_at: datetime | None = None
    relationship_given: bool = False
    consents: list[ConsentInput] = field(default_factory=list)


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
        self._notices: dict[int, PrivacyNotice] | None = None

    def notices(self) -> dict[int, PrivacyNotice]:
        """Published privacy-notice versions, loaded on first use."""
        if self._notices is None:
            self._notices = {notice.version: notice for notice in PrivacyNotice.objects.all()}
        return self._notices

    def unknown_group(self) -> str:
        return str(UNKNOWN_GROUP % {"codes": _codes(self.groups)})

    def unknown_category(self) -> str:
        return str(UNKNOWN_CATEGORY % {"codes": _codes(self.categories)})

    def undeclared_purpose(self) -> str:
        return str(UNDECLARED_PURPOSE % {"codes": _codes(self.purposes)})


def _codes(codes) -> str:
    return ", ".join(sorted(codes)) or str(NO_CODES)


def unknown_basis() -> str:
    return str(UNKNOWN_BASIS % {"codes": ", ".join(LegalBasis.values)})


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
    *, raw: dict[str, Any], path: str, errors: ErrorCollector
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


def identifiers_clean(*, raw: dict[str, Any]) -> dict[str, str]:
    """Normalised identifiers of one subject, or RecordErrors naming each bad one."""
    errors = ErrorCollector()
    cleaned = identifiers_normalize(raw=raw, path="identifiers", errors=errors)
    if errors.errors:
        raise RecordErrors(errors.errors)
    return cleaned


def purpose_declared(*, code: str) -> ProcessingPurpose:
    """The active, declared purpose with this code; anything else is refused (C1)."""
    purpose = ProcessingPurpose.objects.filter(code=code, is_active=True).first()
    if purpose is None:
        declared = ProcessingPurpose.objects.filter(is_active=True).values_list("code", flat=True)
        raise RecordErrors({"purpose": [str(UNDECLARED_PURPOSE % {"codes": _codes(declared)})]})
    return purpose


def group_get(*, code: str) -> SubjectGroup:
    group = SubjectGroup.objects.filter(code=code).first()
    if group is None:
        codes = SubjectGroup.objects.values_list("code", flat=True)
        raise RecordErrors({"group": [str(UNKNOWN_GROUP % {"codes": _codes(codes)})]})
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
        errors.add(f"{path}.purpose", inventory.undeclared_purpose())
    if basis not in _LEGAL_BASES:
        errors.add(f"{path}.legal_basis", unknown_basis())
    elif category.is_special and basis not in SPECIAL_CATEGORY_BASES:
        errors.add(f"{path}.legal_basis", SPECIAL_NEEDS_CONSENT % {"category": category.name})
    elif not category.is_special and basis not in ORDINARY_CATEGORY_BASES:
        errors.add(f"{path}.legal_basis", STATUTORY_ONLY_SPECIAL)
    return purpose


def _moment(value: Any, path: str, errors: ErrorCollector) -> datetime | None:
    """A timestamp from the API or a CSV cell (ISO 8601 text), or one already parsed."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    parsed = None
    if isinstance(value, str):
        try:  # the common case first; parse_datetime tries the same, then its own forms
            parsed = datetime.fromisoformat(value)
        except ValueError:
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:  # well formed but impossible, such as 2025-02-30
                parsed = None
    if parsed is None:
        errors.add(path, INVALID_MOMENT)
        return None
    return parsed if parsed.tzinfo is not None else timezone.make_aware(parsed)


def parse_moment(value: Any, path: str, errors: ErrorCollector) -> datetime | None:
    """A timestamp from the API, a CSV cell or a form (ISO 8601 text), or None when empty."""
    return _moment(value, path, errors)


def items_validate(
    *, raw_items: Sequence[dict[str, Any]], inventory: Inventory, path: str, errors: ErrorCollector
) -> list[ItemInput]:
    """Check items against the inventory; collect errors under ``<path>.items[i]``."""
    items = []
    now = timezone.now()
    checked = inventory.checked
    for index, raw in enumerate(raw_items):
        before = len(errors.errors)
        category = inventory.categories.get(raw.get("category"))
        if category is None:
            errors.add(f"{path}.items[{index}].category", inventory.unknown_category())
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
            if collected in (None, ""):
                errors.add(f"{path}.items[{index}].collected_at", COLLECTED_REQUIRED)
            collected = _moment(collected, f"{path}.items[{index}].collected_at", errors)
        last_used = raw.get("last_used_at")
        if last_used is not None and not isinstance(last_used, datetime):
            last_used = _moment(last_used, f"{path}.items[{index}].last_used_at", errors)
        if collected is not None and collected > now:
            errors.add(f"{path}.items[{index}].collected_at", COLLECTED_IN_FUTURE)
        if last_used is not None and collected is not None and last_used < collected:
            errors.add(f"{path}.items[{index}].last_used_at", LAST_USED_BEFORE_COLLECTED)
        if len(errors.errors) == before:
            items.append(ItemInput(category, purpose, basis, source, value, collected, last_used))
    return items


def record_validate(
    *, record: dict[str, Any], inventory: Inventory, path: str, errors: ErrorCollector
) -> SubjectInput | None:
    """Turn one raw record (API JSON or CSV row) into a checked SubjectInput, or collect errors."""
    before = len(errors.errors)
    group = inventory.groups.get(record.get("group"))
    if group is None:
        errors.add(f"{path}.group", inventory.unknown_group())
    name = _clean_text(record.get("name"), MAX_NAME)
    if name is None:
        errors.add(f"{path}.name", NAME_REQUIRED)
    identifiers = identifiers_normalize(
        raw=record.get("identifiers") or {}, path=f"{path}.identifiers", errors=errors
    )
    if not identifiers and not any(key.startswith(f"{path}.identifiers") for key in errors.errors):
        errors.add(f"{path}.identifiers", IDENTIFIER_REQUIRED)
    items = items_validate(
        raw_items=record.get("items") or [], inventory=inventory, path=path, errors=errors
    )
    consents = consents_validate(
        raw_consents=record.get("consents") or [],
        inventory=inventory,
        path=f"{path}.consents",
        errors=errors,
    )
    given = "relationship_ended_at" in record
    ended = relationship_end_parse(
        value=record.get("relationship_ended_at"),
        path=f"{path}.relationship_ended_at",
        errors=errors,
    )
    if len(errors.errors) > before:
        return None
    return SubjectInput(
        group=group,
        name=name,
        identifiers=identifiers,
        items=items,
        relationship_ended_at=ended,
        relationship_given=given,
        consents=consents,
    )


def relationship_end_parse(*, value: Any, path: str, errors: ErrorCollector) -> datetime | None:
    """The end of the customer relationship: a moment not in the future, or None (no end)."""
    ended = _moment(value, path, errors)
    if ended is not None and ended > timezone.now():
        errors.add(path, RELATIONSHIP_END_IN_FUTURE)
        return None
    return ended


def relationship_end_clean(*, value: Any) -> datetime | None:
    """relationship_end_parse for one value, raising RecordErrors when it is refused."""
    errors = ErrorCollector()
    ended = relationship_end_parse(value=value, path="relationship_ended_at", errors=errors)
    if errors.errors:
        raise RecordErrors(errors.errors)
    return ended


def records_validate(
    *, records: Sequence[dict[str, Any]], prefix: str = "subjects"
) -> list[SubjectInput]:
    """Validate a whole batch; raise RecordErrors with every problem, or return the inputs."""
    inventory, errors = Inventory(), ErrorCollector()
    inputs = [
        record_validate(record=r, inventory=inventory, path=f"{prefix}[{i}]", errors=errors)
        for i, r in enumerate(records)
    ]
    if errors.errors:
        raise RecordErrors(errors.errors)
    return inputs


# --- Explicit consent ------------------------------------------------------------------


def consent_check(
    *,
    raw: dict[str, Any],
    inventory: Inventory,
    path: str,
    errors: ErrorCollector,
    has_evidence_file: bool = False,
) -> ConsentInput | None:
    """One consent's fields (API, CSV, portal alike); errors collected under ``path``."""
    before = len(errors.errors)
    prefix = f"{path}." if path else ""
    purpose = inventory.purposes.get(raw.get("purpose"))
    if purpose is None:
        errors.add(f"{prefix}purpose", inventory.undeclared_purpose())
    channel = raw.get("channel")
    if channel not in ConsentChannel.values:
        errors.add(
            f"{prefix}channel", UNKNOWN_CHANNEL % {"codes": ", ".join(ConsentChannel.values)}
        )
    now = timezone.now()
    given_raw = raw.get("given_at")
    if given_raw in (None, ""):
        errors.add(f"{prefix}given_at", GIVEN_REQUIRED)
    given = _moment(given_raw, f"{prefix}given_at", errors)
    if given is not None and given > now:
        errors.add(f"{prefix}given_at", GIVEN_IN_FUTURE)
    withdrawn = _moment(raw.get("withdrawn_at"), f"{prefix}withdrawn_at", errors)
    if withdrawn is not None and given is not None and withdrawn < given:
        errors.add(f"{prefix}withdrawn_at", WITHDRAWN_BEFORE_GIVEN)
    elif withdrawn is not None and withdrawn > now:
        errors.add(f"{prefix}withdrawn_at", WITHDRAWN_IN_FUTURE)
    notice = None
    version = raw.get("notice_version")
    if version not in (None, ""):
        versions = inventory.notices()
        try:
            notice = versions.get(int(version))
        except (TypeError, ValueError):
            notice = None
        if notice is None:
            codes = ", ".join(str(v) for v in sorted(versions)) or str(NO_NOTICES)
            errors.add(f"{prefix}notice_version", UNKNOWN_NOTICE % {"codes": codes})
    reference = raw.get("evidence_reference")
    reference = reference.strip() if isinstance(reference, str) else ""
    if len(reference) > MAX_EVIDENCE_REFERENCE:
        errors.add(f"{prefix}evidence_reference", EVIDENCE_REFERENCE_TOO_LONG)
    elif not reference and not has_evidence_file:
        errors.add(f"{prefix}evidence_reference", EVIDENCE_REQUIRED)
    if len(errors.errors) > before:
        return None
    return ConsentInput(purpose, channel, given, withdrawn, notice, reference)


def consents_validate(
    *,
    raw_consents: Sequence[dict[str, Any]],
    inventory: Inventory,
    path: str,
    errors: ErrorCollector,
) -> list[ConsentInput]:
    checked = []
    for index, raw in enumerate(raw_consents):
        consent = consent_check(
            raw=raw if isinstance(raw, dict) else {},
            inventory=inventory,
            path=f"{path}[{index}]",
            errors=errors,
        )
        if consent is not None:
            checked.append(consent)
    return checked


def consent_pairs(
    *, pairs: Iterable[tuple[int, int]], at: datetime | None = None
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """For (subject id, purpose id) pairs: those with a valid explicit consent at ``at``,
    and those whose every consent has been withdrawn. One query for a whole batch."""
    pairs = set(pairs)
    if not pairs:
        return set(), set()
    at = at or timezone.now()
    valid, withdrawn = set(), set()
    rows = Consent.objects.filter(
        subject_id__in={subject for subject, _purpose in pairs},
        purpose_id__in={purpose for _subject, purpose in pairs},
    ).values_list("subject_id", "purpose_id", "given_at", "withdrawn_at")
    for subject_id, purpose_id, given_at, withdrawn_at in rows:
        pair = (subject_id, purpose_id)
        if pair not in pairs:
            continue
        if given_at <= at and (withdrawn_at is None or withdrawn_at > at):
            valid.add(pair)
        elif withdrawn_at is not None and withdrawn_at <= at:
            withdrawn.add(pair)
    return valid, withdrawn - valid


@dataclass(frozen=True)
class GateRow:
    """One item on explicit consent to check: where its basis is, whose, and which consents
    its own record brings along (a CSV row or API record may give the consent with the item)."""

    path: str
    subject_id: int | None
    item: ItemInput
    own_purposes: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Refusal:
    """An item the consent gate refused, for the processing log (no personal value)."""

    subject_id: int | None
    category: str
    purpose: str
    reason: str


class ConsentRefused(RecordErrors):
    """Items on explicit consent without a valid consent: ``refusals`` go to the processing log
    once the write has rolled back (subjects.services.refusals_log)."""

    def __init__(self, errors: dict[str, list[str]], refusals: list[Refusal]):
        super().__init__(errors)
        self.refusals = refusals
        self.logged = False


def consent_gate(*, rows: Sequence[GateRow], at: datetime | None = None) -> None:
    """The gate of explicit consent for a whole batch, with one query (Art. 5(1), 6(3); C10).

    An item of a special category on explicit consent needs a valid consent of its subject
    for its purpose; an ordinary item on explicit consent is refused once the subject has
    withdrawn that consent. Art. 6(3) grounds and the other Art. 5(2) bases pass as they are.
    Raises ConsentRefused naming every refused item.
    """
    rows = [row for row in rows if row.item.legal_basis == LegalBasis.EXPLICIT_CONSENT]
    if not rows:
        return
    valid, withdrawn = consent_pairs(
        pairs=[(row.subject_id, row.item.purpose.id) for row in rows if row.subject_id is not None],
        at=at,
    )
    errors, refusals = ErrorCollector(), []
    for row in rows:
        pair = (row.subject_id, row.item.purpose.id)
        if pair in valid or row.item.purpose.id in row.own_purposes:
            continue
        if row.item.category.is_special:
            reason = "special_category_without_consent"
            errors.add(row.path, SPECIAL_WITHOUT_CONSENT % {"category": row.item.category.name})
        elif pair in withdrawn:
            reason = "consent_withdrawn"
            errors.add(row.path, CONSENT_WITHDRAWN)
        else:
            continue
        refusals.append(
            Refusal(row.subject_id, row.item.category.code, row.item.purpose.code, reason)
        )
    if refusals:
        raise ConsentRefused(errors.errors, refusals)


def record_gate_rows(
    *, inputs: Sequence[SubjectInput], subject_ids: Sequence[int | None], prefix: str = "subjects"
) -> list[GateRow]:
    """The gate rows of validated records, ``subject_ids`` being their stored subjects (None:
    new), each with the purposes its own record gives a valid consent for."""
    now = timezone.now()
    rows = []
    for position, (inp, subject_id) in enumerate(zip(inputs, subject_ids, strict=True)):
        own = frozenset(c.purpose.id for c in inp.consents if c.valid_at(now))
        for index, item in enumerate(inp.items):
            rows.append(
                GateRow(f"{prefix}[{position}].items[{index}].legal_basis", subject_id, item, own)
            )
    return rows
