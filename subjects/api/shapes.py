"""Shape checks of the register's write bodies: types and sizes only, in one flat pass.

The register's rules (inventory codes, legal bases, identifiers, dates, required values)
are enforced by subjects.validation on every way in, API and CSV alike. These checks only
make sure that what reaches it is plain JSON of the expected types and sizes: strings where
strings go, lists and objects where they go, nothing oversized. DRF's nested serializers
did the same field by field and took longer than storing the batch (bench/ingest.py).

Errors have the API's shape and paths (``subjects[3].items[0].value``) and DRF's own
messages, so they read as before.
"""

from typing import Any

from django.conf import settings
from rest_framework import serializers

from subjects.api.serializers import TOO_MANY_SUBJECTS
from subjects.validation import (
    MAX_ATTACHMENT_NAME,
    MAX_EVIDENCE_REFERENCE,
    MAX_NAME,
    MAX_SOURCE,
    MAX_VALUE,
    RecordErrors,
)

_MESSAGES = {
    "required": serializers.Field.default_error_messages["required"],
    "null": serializers.Field.default_error_messages["null"],
    "invalid": serializers.CharField.default_error_messages["invalid"],
    "blank": serializers.CharField.default_error_messages["blank"],
    "max_length": serializers.CharField.default_error_messages["max_length"],
    "not_a_list": serializers.ListField.default_error_messages["not_a_list"],
    "empty": serializers.ListField.default_error_messages["empty"],
    "not_a_dict": serializers.DictField.default_error_messages["not_a_dict"],
}
_MOMENT = 64  # far beyond any ISO 8601 timestamp
# Longest value of each key; a key not listed here is ignored, as DRF ignored unknown fields.
RECORD_TEXT = {"group": 40, "name": MAX_NAME}
IDENTIFIER_TEXT = {"tckn": 11, "passport": 24, "email": 254, "phone": 24, "customer_no": 64}
ITEM_TEXT = {
    "category": 40,
    "purpose": 40,
    "legal_basis": 20,
    "source_system": MAX_SOURCE,
    "value": MAX_VALUE,
    "collected_at": _MOMENT,
}
_ITEM_CHECKS = tuple(ITEM_TEXT.items())
# Consents a record brings (C10); notice_version is a number or its text.
CONSENT_TEXT = {
    "purpose": 40,
    "channel": 20,
    "given_at": _MOMENT,
    "evidence_reference": MAX_EVIDENCE_REFERENCE,
}


class _Errors(dict):
    def add(self, path: str, key: str, **params: Any) -> None:
        self.setdefault(path, []).append(str(_MESSAGES[key]).format(**params))


def _text(value: Any, limit: int, path: str, errors: _Errors, *, nullable: bool = False) -> None:
    if value is None:
        if not nullable:
            errors.add(path, "null")
    elif not isinstance(value, str):
        errors.add(path, "invalid")
    elif len(value) > limit:
        errors.add(path, "max_length", max_length=limit)
    elif not value:
        errors.add(path, "blank")  # text of spaces only is judged by the register's rules


def _object(value: Any, path: str, errors: _Errors) -> bool:
    if isinstance(value, dict):
        return True
    errors.add(path, "not_a_dict", input_type=type(value).__name__)
    return False


def _list(value: Any, path: str, errors: _Errors) -> bool:
    if isinstance(value, list):
        return True
    errors.add(path, "not_a_list", input_type=type(value).__name__)
    return False


def _items(items: Any, path: str, errors: _Errors) -> None:
    if not _list(items, path, errors):
        return
    # The hot loop of a bulk batch (10,000 items): plain type and length tests, and only an
    # item that fails one is checked again key by key for its messages.
    checks = _ITEM_CHECKS
    for index, item in enumerate(items):
        if item.__class__ is dict:
            for key, limit in checks:
                value = item.get(key)
                if not (value.__class__ is str and 0 < len(value) <= limit) and (
                    value is not None or key in item
                ):
                    break
            else:
                last = item.get("last_used_at")
                if last is None or (last.__class__ is str and 0 < len(last) <= _MOMENT):
                    continue
        _item(item, f"{path}[{index}]", errors)


def _item(item: Any, at: str, errors: _Errors) -> None:
    if not _object(item, at, errors):
        return
    for key, limit in ITEM_TEXT.items():
        if key in item:
            _text(item[key], limit, f"{at}.{key}", errors)
    if "last_used_at" in item:
        _text(item["last_used_at"], _MOMENT, f"{at}.last_used_at", errors, nullable=True)


def _record(record: Any, path: str, errors: _Errors) -> None:
    if not _object(record, path or "non_field_errors", errors):
        return
    at = f"{path}." if path else ""
    for key, limit in RECORD_TEXT.items():
        if key in record:
            _text(record[key], limit, f"{at}{key}", errors)
    identifiers = record.get("identifiers")
    if identifiers is not None and _object(identifiers, f"{at}identifiers", errors):
        for kind, value in identifiers.items():
            if kind in IDENTIFIER_TEXT:
                _text(value, IDENTIFIER_TEXT[kind], f"{at}identifiers.{kind}", errors)
    if "relationship_ended_at" in record:
        _text(
            record["relationship_ended_at"],
            _MOMENT,
            f"{at}relationship_ended_at",
            errors,
            nullable=True,
        )
    if record.get("items") is not None:
        _items(record["items"], f"{at}items", errors)
    if record.get("consents") is not None:
        _consents(record["consents"], f"{at}consents", errors)


def _consents(consents: Any, path: str, errors: _Errors) -> None:
    if not _list(consents, path, errors):
        return
    for index, consent in enumerate(consents):
        at = f"{path}[{index}]"
        if not _object(consent, at, errors):
            continue
        for key, limit in CONSENT_TEXT.items():
            # an empty text is judged by the register's rules, with their message
            if key in consent and consent[key] != "":
                _text(consent[key], limit, f"{at}.{key}", errors)
        if "withdrawn_at" in consent:
            _text(consent["withdrawn_at"], _MOMENT, f"{at}.withdrawn_at", errors, nullable=True)
        version = consent.get("notice_version")
        if version is not None and not isinstance(version, int | str):
            errors.add(f"{at}.notice_version", "invalid")


def _raise(errors: _Errors) -> None:
    if errors:
        raise RecordErrors(dict(errors))


def record_shape_check(body: Any) -> dict:
    """One subject record (POST subjects/), paths as in the body: ``items[0].value``."""
    errors = _Errors()
    _record(body, "", errors)
    _raise(errors)
    return body


def bulk_shape_check(body: Any) -> list[dict]:
    """A batch (POST subjects/bulk/): ``{"subjects": [record, ...]}`` within the batch limit."""
    errors = _Errors()
    if not _object(body, "non_field_errors", errors):
        _raise(errors)
    subjects = body.get("subjects")
    if "subjects" not in body:
        errors.add("subjects", "required")
    elif _list(subjects, "subjects", errors):
        limit = settings.API_BULK_MAX_SUBJECTS
        if not subjects:
            errors.add("subjects", "empty")
        elif len(subjects) > limit:
            errors.setdefault("subjects", []).append(str(TOO_MANY_SUBJECTS % {"limit": limit}))
        else:
            for index, record in enumerate(subjects):
                _record(record, f"subjects[{index}]", errors)
    _raise(errors)
    return subjects


def items_shape_check(body: Any) -> list[dict]:
    """Items added to a subject (POST subjects/<uuid>/items/): ``{"items": [item, ...]}``."""
    errors = _Errors()
    if not _object(body, "non_field_errors", errors):
        _raise(errors)
    items = body.get("items")
    if "items" not in body:
        errors.add("items", "required")
    elif isinstance(items, list) and not items:
        errors.add("items", "empty")
    else:
        _items(items, "items", errors)
    _raise(errors)
    return items


def consent_shape_check(body: Any) -> dict:
    """One consent (POST subjects/<uuid>/consents/), with an optional evidence file."""
    errors = _Errors()
    if not _object(body, "non_field_errors", errors):
        _raise(errors)
    _consents([{k: v for k, v in body.items() if k != "evidence"}], "consents", errors)
    errors = _Errors({path.removeprefix("consents[0]."): m for path, m in errors.items()})
    if "evidence" in body and _object(body["evidence"], "evidence", errors):
        for key, limit in (("name", MAX_ATTACHMENT_NAME), ("content_base64", 2**31)):
            if key not in body["evidence"]:
                errors.add(f"evidence.{key}", "required")
            else:
                _text(body["evidence"][key], limit, f"evidence.{key}", errors)
    _raise(errors)
    return body
