"""Contract-end destruction, the retention side: what lives outside the controller's schema.

The tenants app ends the contract, drops the schema and signs the certificate
(tenants/contract.py); before it drops the schema it calls
``controller_data_destroy``, which counts what the schema holds and destroys
everything of the controller that the schema drop would leave behind:

- its keys in the key database: the ControllerKey and every SubjectDataKey. Without
  them no copy of its values (data backups, history tables) can be decrypted again;
- its attachment files and data-return exports under its media prefix ``<schema>/``;
- its entries in the ledger of destroyed ids (DestroyedBatch). The ledger exists to
  re-apply item and subject destructions after a data restore. Once the controller's
  keys are gone, a restored copy of its schema cannot be read by anyone (crypto-shredding
  covers the whole controller), and its tenant row says it is destroyed, so the portal
  never serves it again; the ledger of that schema has nothing left to protect and, being
  ids of a controller we no longer process for, is not kept.

Idempotent: every step deletes what is still there. The counts come from the schema's
rows, which stay until the schema is dropped, so a second call before the drop (after a
crash) reports the same numbers; after the drop it reports zeros.
"""

import logging

from django.core.files.storage import default_storage
from django.db import connection, transaction
from psycopg import sql

from retention import ledger
from subjects.crypto import KEYS_DATABASE, forget_keyrings
from subjects.models import (
    ControllerKey,
    DataSubject,
    Interaction,
    PersonalDataItem,
    SubjectDataKey,
)

logger = logging.getLogger(__name__)

_COUNTED = {
    "subjects": (DataSubject, None),
    "items": (PersonalDataItem, None),
    "interactions": (Interaction, None),
    "files": (Interaction, "attachment_path <> ''"),
}


def _schema_exists(schema_name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = %s)", [schema_name])
        return cursor.fetchone()[0]


def controller_data_count(*, schema_name: str) -> dict[str, int]:
    """How many subjects, items, interactions and attachment files the schema holds."""
    if not _schema_exists(schema_name):
        return dict.fromkeys(_COUNTED, 0)
    counts = {}
    with connection.cursor() as cursor:
        for name, (model, condition) in _COUNTED.items():
            query = sql.SQL("SELECT count(*) FROM {table}").format(
                table=sql.Identifier(schema_name, model._meta.db_table)
            )
            if condition:
                query = query + sql.SQL(" WHERE " + condition)
            cursor.execute(query)
            counts[name] = cursor.fetchone()[0]
    return counts


def _media_delete(prefix: str) -> int:
    """Delete every file under ``prefix`` in the default storage; returns how many."""
    try:
        folders, names = default_storage.listdir(prefix)
    except FileNotFoundError:
        return 0
    deleted = 0
    for name in names:
        default_storage.delete(f"{prefix}/{name}")
        deleted += 1
    for folder in folders:
        deleted += _media_delete(f"{prefix}/{folder}")
    return deleted


def controller_data_destroy(*, schema_name: str) -> dict[str, int]:
    """Destroy a controller's keys, files and ledger entries; return the counts of its data.

    Call it before the schema is dropped (the counts are read from it). Runs in any schema:
    every statement names ``schema_name`` itself. Returns subjects, items, interactions and
    files held, plus what was deleted now: ``subject_keys``, ``controller_keys``,
    ``ledger_entries`` and ``files_deleted``.
    """
    if schema_name in {"", "public"}:
        raise ValueError("The platform's own schema is never destroyed.")
    counts = controller_data_count(schema_name=schema_name)
    # Keys first: once they are gone, nothing of the controller can be read, whatever happens next.
    with transaction.atomic(using=KEYS_DATABASE):
        subject_keys, _ = (
            SubjectDataKey.objects.using(KEYS_DATABASE).filter(schema_name=schema_name).delete()
        )
        controller_keys, _ = (
            ControllerKey.objects.using(KEYS_DATABASE).filter(schema_name=schema_name).delete()
        )
    ledger_entries = ledger.ledger_forget_schema(schema_name)
    forget_keyrings()
    files_deleted = _media_delete(schema_name)
    logger.warning(
        "Destroyed the keys and files of schema %s: %s subject keys, %s files",
        schema_name,
        subject_keys,
        files_deleted,
    )
    return {
        **counts,
        "subject_keys": subject_keys,
        "controller_keys": controller_keys,
        "ledger_entries": ledger_entries,
        "files_deleted": files_deleted,
    }
