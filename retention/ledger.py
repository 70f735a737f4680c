"""The ledger of destroyed ids: a restore never brings destroyed data back into use.

Every item the destruction service ends and every subject it destroys gets a
DestroyedRecord in the key database (ids and uuids only, never data), written before the
data transaction that ends them commits: a crash leaves the ledger ahead of the data,
never behind. Each schema keeps in LedgerMark how far it has applied the ledger. A data
backup restored afterwards carries an older mark: the portal refuses to serve that
controller (retention.middleware) until ``manage.py destruction_replay`` has applied the
ledger again and advanced the mark.

Batches of one schema write the ledger and advance the mark under one advisory lock
(ledger_lock), so ledger ids and marks of one schema advance in the same order.
"""

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.db.models import Max
from django.utils import timezone

from config.kvkk import DestructionMethod
from retention.models import DestroyedRecord, LedgerMark
from subjects import services as subject_services
from subjects.crypto import KEYS_DATABASE

logger = logging.getLogger(__name__)

LEDGER_LOCK_CLASS = 0x4C454447  # "LEDG"
REPLAY_CHUNK = 5000
_CACHE_KEY = "retention-ledger-last:{schema}"


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


def ledger_write(
    *,
    run_uuid,
    items: Iterable[tuple[int, object, str]] = (),
    subjects: Iterable[tuple[int, object]] = (),
    when: datetime | None = None,
) -> int | None:
    """Record ended items (id, subject uuid, method) and destroyed subjects (id, uuid) in
    the key database, committed at once; returns the last ledger id written."""
    when = when or timezone.now()
    kinds, ids, uuids, methods = [], [], [], []
    for item_id, subject_uuid, method in items:
        kinds.append(DestroyedRecord.Kind.ITEM)
        ids.append(item_id)
        uuids.append(subject_uuid)
        methods.append(method)
    for subject_id, subject_uuid in subjects:
        kinds.append(DestroyedRecord.Kind.SUBJECT)
        ids.append(subject_id)
        uuids.append(subject_uuid)
        methods.append(DestructionMethod.DESTROY)
    if not ids:
        return None
    # One statement for the whole batch, in the order given (ids ascend with it).
    with transaction.atomic(using=KEYS_DATABASE), connections[KEYS_DATABASE].cursor() as cursor:
        cursor.execute(
            f"""
            WITH written AS (
                INSERT INTO {DestroyedRecord._meta.db_table}
                       (schema_name, run_uuid, kind, object_id, subject_uuid, method, destroyed_at)
                SELECT %s, %s, x.kind, x.object_id, x.subject_uuid, x.method, %s
                  FROM unnest(%s::text[], %s::bigint[], %s::uuid[], %s::text[]) WITH ORDINALITY
                       AS x(kind, object_id, subject_uuid, method, n)
                 ORDER BY x.n
                RETURNING id)
            SELECT max(id) FROM written
            """,  # noqa: S608 (the model's own table name, bound parameters)
            [connection.schema_name, run_uuid, when, kinds, ids, uuids, methods],
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
        DestroyedRecord.objects.using(KEYS_DATABASE)
        .filter(schema_name=schema_name)
        .aggregate(last=Max("id"))["last"]
        or 0
    )
    if seconds > 0:
        cache.set(key, value, seconds)
    return value


def ledger_forget(schema_name: str) -> None:
    cache.delete(_CACHE_KEY.format(schema=schema_name))


def schema_behind() -> bool:
    """Whether the current schema's data is behind its ledger (a restored backup)."""
    last = ledger_last(connection.schema_name, cached=True)
    if last == 0 or mark_applied() >= last:
        return False
    # A batch may be between its ledger write and its commit this very moment.
    return not ledger_busy()


def _replay_chunk(records: list[tuple]) -> list[int]:
    """Apply one chunk of ledger records (id, kind, object_id, method, run_uuid) to the
    current schema, in the caller's transaction; returns the subjects to complete."""
    items = {method: [] for method in DestructionMethod.values}
    anonymised_runs = []
    subjects = []
    for _id, kind, object_id, method, run_uuid in records:
        if kind == DestroyedRecord.Kind.SUBJECT:
            subjects.append(object_id)
        else:
            items[method].append(object_id)
            if method == DestructionMethod.ANONYMISE:
                anonymised_runs.append(str(run_uuid))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE subjects_personaldataitem SET deleted_at = now()"
            " WHERE id = ANY(%s::bigint[]) AND deleted_at IS NULL",
            [items[DestructionMethod.DELETE]],
        )
        if items[DestructionMethod.ANONYMISE]:
            # The facts of the restored run survive only if the restored data still has it.
            cursor.execute(
                """
                INSERT INTO retention_anonymisedfact
                       (category_id, purpose_id, collected_year, anonymised_at, run_id)
                SELECT i.category_id, i.purpose_id,
                       EXTRACT(YEAR FROM i.collected_at AT TIME ZONE %s), now(), r.id
                  FROM unnest(%s::bigint[], %s::uuid[]) AS x(item_id, run_uuid)
                  JOIN subjects_personaldataitem i ON i.id = x.item_id
                  JOIN retention_destructionrun r ON r.uuid = x.run_uuid
                """,
                [
                    timezone.get_default_timezone_name(),
                    items[DestructionMethod.ANONYMISE],
                    anonymised_runs,
                ],
            )
        gone = items[DestructionMethod.DESTROY] + items[DestructionMethod.ANONYMISE]
        cursor.execute(
            "DELETE FROM subjects_historicalpersonaldataitem WHERE id = ANY(%s::bigint[])", [gone]
        )
        cursor.execute("DELETE FROM subjects_personaldataitem WHERE id = ANY(%s::bigint[])", [gone])
    subject_services.subjects_destruction_request(subject_ids=subjects)
    return subjects


def destruction_replay() -> dict:
    """Re-apply the current schema's ledger past its mark (after a restore); returns counts."""
    schema = connection.schema_name
    applied = {"records": 0, "subjects": 0}
    while True:
        start = mark_applied()
        records = list(
            DestroyedRecord.objects.using(KEYS_DATABASE)
            .filter(schema_name=schema, id__gt=start)
            .order_by("id")
            .values_list("id", "kind", "object_id", "method", "run_uuid")[:REPLAY_CHUNK]
        )
        if not records:
            break
        with transaction.atomic():
            ledger_lock()
            subjects = _replay_chunk(records)
            mark_advance(records[-1][0])
        # Keys are gone already (the key database is not restored): what the restored data
        # still holds of these subjects goes now.
        subject_services.subjects_destruction_complete(subject_ids=subjects)
        applied["records"] += len(records)
        applied["subjects"] += len(subjects)
    ledger_forget(schema)
    if applied["records"]:
        logger.warning("Replayed %s ledger records in %s", applied["records"], schema)
    return applied
