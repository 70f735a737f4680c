"""Sealing an application's personal data under the tenant key, bound to row and column."""

import json
from typing import Any

from django.db import models

from subjects.crypto import Place, keyring


def _place(obj: models.Model, field_name: str) -> Place:
    return Place.of(type(obj), field_name)


def _row(obj: models.Model) -> str:
    # Applications and documents carry a uuid from construction; notes, messages, packages
    # and letters are bound to their application's.
    own = getattr(obj, "uuid", None)
    return str(own if own is not None else obj.application.uuid)


def seal_text(obj: models.Model, field_name: str, text: str) -> None:
    """Set ``obj.<field_name>`` to ``text`` sealed for this row and column."""
    setattr(
        obj, field_name, keyring().seal_bound(text.encode(), _place(obj, field_name), _row(obj))
    )


def open_text(obj: models.Model, field_name: str) -> str:
    sealed = getattr(obj, field_name)
    if sealed is None:
        return ""
    return keyring().open_bound(sealed, _place(obj, field_name), _row(obj)).decode()


def seal_json(obj: models.Model, field_name: str, value: Any) -> None:
    seal_text(obj, field_name, json.dumps(value, ensure_ascii=False, sort_keys=True))


def open_json(obj: models.Model, field_name: str) -> Any:
    text = open_text(obj, field_name)
    return json.loads(text) if text else None


def seal_file(obj: models.Model, content: bytes) -> bytes:
    """A file's content sealed for its row (a document, a package's file, a letter)."""
    return keyring().seal_bound(content, Place(obj._meta.db_table, "file"), _row(obj))


def open_file(obj: models.Model, sealed: bytes) -> bytes:
    return keyring().open_bound(sealed, Place(obj._meta.db_table, "file"), _row(obj))
