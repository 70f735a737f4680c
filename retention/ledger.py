"""The ledger of destroyed ids: a restore never brings destroyed data back into use.

Every destruction batch gets ONE DestroyedBatch row in the key database: the ids of the
items it ended, by method, and the ids and uuids of the subjects it destroyed as a whole
(ids and uuids only, never data). The row commits before the data transaction that ends
them does: a crash leaves the ledger ahead of the data, never behind. Each schema keeps
in LedgerMark the last ledger row it has applied. A data backup restored afterwards
carries an older mark: the portal refuses to serve that controller (retention.middleware)
until ``manage.py destruction_replay`` has applied the ledger again and advanced the mark.

Batches of one schema write the ledger and advance the mark under one advisory lock
(ledger_lock), so ledger ids and marks of one schema advance in the same order. The id
arrays travel as PostgreSQL array text from the data database to the key database and
back: a batch's ids are never Python integers, and only one batch is in memory.

When a controller's schema is dropped at the end of its contract, ledger_forget_schema()
removes its rows, so a controller created later under the same name starts with none.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.db.models import Max
from django.utils import timezone

from retention.models import DestroyedBatch, LedgerMark
from subjects import services as subject_services
from subjects.crypto import KEYS_DATABASE

logger = logging.getLogger(__name__)

LEDGER_LOCK_CLASS = 0x4C454447  # "LEDG"
_CACHE_KEY = "retention-ledger-last:{schema}"
_TABLE = DestroyedBatch._meta.db_table
EMPTY = "{}"


def ledger_lock() -> None:
    """Serialise ledger writes of the current schema until the data transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", [LEDGER_LOCK_CLASS]
        )


def ledger_busy() -> bool:
    """Whether a batch of this schema is between its ledger write and its data commit."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_lock(%s, hashtext(current_schema()))", [LEDGER_LOCK_CLASS]
        )
        (acquired,) = cursor.fetchone()
        if acquired:
            cursor.execute(
                "SELECT pg_advisory_unlock(%s, hashtext(current_schema()))", [LEDGER_LOCK_CLASS]
            )
    return not acquired


def _array(ids) -> str | list:
    """Ids as given: PostgreSQL array text ('{1,2}') passes through, a list is bound."""
    return EMPTY if ids is None else ids


def ledger_write(
    *,
    run_uuid,
    deleted="{}",
    destroyed="{}",
    anonymised="{}",
    subjects=(),
    when: datetime | None = None,
) -> int | None:
    """Record one batch in the key database, committed at once; returns its ledger id (None
    when it ended nothing). ``deleted``, ``destroyed`` and ``anonymised`` are the ended
    item ids by method (a list, or PostgreSQL array text); ``subjects`` the (id, uuid) of
    the subjects destroyed as a whole."""
    subjects = list(subjects)
    deleted, destroyed, anonymised = _array(deleted), _array(destroyed), _array(anonymised)
    if not subjects and all(ids in (EMPTY, []) for ids in (deleted, destroyed, anonymised)):
        return None
    with transaction.atomic(using=KEYS_DATABASE), connections[KEYS_DATABASE].cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {_TABLE} (schema_name, run_uuid, destroyed_at, deleted_ids,
                                  destroyed_ids, anonymised_ids, subject_ids, subject_uuids)
            VALUES (%s, %s, %s, %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[],
                    %s::uuid[])
            RETURNING id
            """,  # noqa: S608 (the model's own table name, bound parameters)
            [
                connection.schema_name,
                run_uuid,
                when or timezone.now(),
                deleted,
                destroyed,
                anonymised,
                [subject_id for subject_id, _uuid in subjects],
                [subject_uuid for _id, subject_uuid in subjects],
            ],
        )
        return cursor.fetchone()[0]


def mark_advance(last_id: int | None) -> None:
    """Advance this schema's mark to ``last_id`` (in the caller's data transaction)."""
    if last_id is None:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO retention_ledgermark (singleton, applied_through) VALUES (true, %s)"
            " ON CONFLICT (singleton) DO UPDATE SET applied_through ="
            " GREATEST(retention_ledgermark.applied_through, EXCLUDED.applied_through)",
            [last_id],
        )


def mark_applied() -> int:
    mark = LedgerMark.objects.first()
    return mark.applied_through if mark else 0


def ledger_last(schema_name: str, *, cached: bool = False) -> int:
    """The last ledger id of a schema (0 when nothing was ever destroyed there)."""
    key = _CACHE_KEY.format(schema=schema_name)
    seconds = settings.RETENTION_LEDGER_CACHE_SECONDS
    cached = cached and seconds > 0
    if cached:
        value = cache.get(key)
        if value is not None:
            return value
    value = (
        DestroyedBatch.objects.using(KEYS_DATABASE)
        .filter(schema_name=schema_name)
        .aggregate(last=Max("id"))["last"]
        or 0
    )
    if seconds > 0:
        cache.set(key, value, seconds)
    return value


def ledger_forget(schema_name: str) -> None:
    """Drop the cached last ledger id of a schema (read it again on the next request)."""
    cache.delete(_CACHE_KEY.format(schema=schema_name))


def ledger_forget_schema(schema_name: str) -> int:
    """Remove a dropped schema's ledger (the end of its contract): a controller created
    later under the same name must not look behind it. Returns the batches removed."""
    removed, _ = (
        DestroyedBatch.objects.using(KEYS_DATABASE).filter(schema_name=schema_name).delete()
    )
    ledger_forget(schema_name)
    return removed


def schema_behind() -> bool:
    """Whether the current schema's data is behind its ledger (a restored backup)."""
    last = ledger_last(connection.schema_name, cached=True)
    if last == 0 or mark_applied() >= last:
        return False
    # A batch may be between its ledger write and its commit this very moment.
    return not ledger_busy()


def _replay_batch(batch: tuple) -> list[int]:
    """Apply one ledger batch (id, run_uuid, deleted, destroyed, anonymised, subject_ids as
    array text) to the current schema, in the caller's transaction; returns the subjects
    to complete."""
    _id, run_uuid, deleted, destroyed, anonymised, subject_ids = batch
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE subjects_personaldataitem SET deleted_at = now()"
            " WHERE id = ANY(%s::bigint[]) AND deleted_at IS NULL",
            [deleted],
        )
        if anonymised != EMPTY:
            # The facts of the restored run survive only if the restored data still has it.
            cursor.execute(
                """
                INSERT INTO retention_anonymisedfact
                       (category_id, purpose_id, collected_year, anonymised_at, run_id)
                SELECT i.category_id, i.purpose_id,
                       EXTRACT(YEAR FROM i.collected_at AT TIME ZONE %s), now(), r.id
                  FROM subjects_personaldataitem i
                  JOIN retention_destructionrun r ON r.uuid = %s
                 WHERE i.id = ANY(%s::bigint[])
                """,
                [timezone.get_default_timezone_name(), run_uuid, anonymised],
            )
        for gone in (destroyed, anonymised):
            cursor.execute(
                "DELETE FROM subjects_historicalpersonaldataitem WHERE id = ANY(%s::bigint[])",
                [gone],
            )
            cursor.execute(
                "DELETE FROM subjects_personaldataitem WHERE id = ANY(%s::bigint[])", [gone]
            )
        cursor.execute("SELECT unnest(%s::bigint[])", [subject_ids])
        subjects = [pk for (pk,) in cursor.fetchall()]
    subject_services.subjects_destruction_request(subject_ids=subjects)
    return subjects


def destruction_replay() -> dict:
    """Re-apply the current schema's ledger past its mark (after a restore), one ledger
    batch per transaction; returns counts."""
    schema = connection.schema_name
    applied = {"records": 0, "subjects": 0}
    while True:
        start = mark_applied()
        with connections[KEYS_DATABASE].cursor() as cursor:
            cursor.execute(
                f"""
                SELECT id, run_uuid, deleted_ids::text, destroyed_ids::text,
                       anonymised_ids::text, subject_ids::text,
                       cardinality(deleted_ids) + cardinality(destroyed_ids)
                       + cardinality(anonymised_ids) + cardinality(subject_ids)
                  FROM {_TABLE} WHERE schema_name = %s AND id > %s ORDER BY id LIMIT 1
                """,  # noqa: S608 (the model's own table name, bound parameters)
                [schema, start],
            )
            row = cursor.fetchone()
        if row is None:
            break
        *batch, records = row
        with transaction.atomic():
            ledger_lock()
            subjects = _replay_batch(tuple(batch))
            mark_advance(batch[0])
        # Keys are gone already (the key database is not restored): what the restored data
        # still holds of these subjects goes now.
        subject_services.subjects_destruction_complete(subject_ids=subjects)
        applied["records"] += records
        applied["subjects"] += len(subjects)
    ledger_forget(schema)
    if applied["records"]:
        logger.warning("Replayed %s ledger records in %s", applied["records"], schema)
    return applied
