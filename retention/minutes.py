"""Destruction minutes (imha tutanağı): one signed, chained record per destruction run.

Regulation Art. 7(3): every deletion, destruction and anonymisation is recorded and the
records are kept at least three years (config.kvkk.DESTRUCTION_RECORDS_MIN_YEARS). The
record holds counts and a digest of the affected ids, never the data; it is chained to
the minutes before it and signed with the platform's Ed25519 key (audit.signing), whose
public key the platform host publishes.
"""

import hashlib
import json
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from audit import signing
from config.kvkk import DESTRUCTION_RECORDS_MIN_YEARS
from retention.models import DestructionMinutes, DestructionRun

GENESIS = "0" * 64
_MINUTES_LOCK_CLASS = 0x494D4841  # "IMHA"


def canonical(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def minutes_hash(*, seq: int, prev_hash: str, body: dict) -> str:
    return hashlib.sha256(
        f"kvkk-minutes|1|{seq}|{prev_hash}|".encode() + canonical(body)
    ).hexdigest()


def minutes_body(*, run: DestructionRun, affected_ids_digest: str) -> dict:
    """What the minutes say of a run: who, when, why, what by which rule and method, counts."""
    return {
        "controller": connection.schema_name,
        "run": str(run.uuid),
        "kind": run.kind,
        "reason": run.reason,
        "approved_by": run.approved_by.get_full_name() or run.approved_by.get_username()
        if run.approved_by
        else None,
        "approved_at": run.approved_at.isoformat() if run.approved_at else None,
        "executed_automatically": run.executed_automatically,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "counts": run.counts,
        "held": run.held,
        "affected_ids_digest": affected_ids_digest,
    }


@transaction.atomic
def minutes_record(*, run: DestructionRun, affected_ids_digest: str) -> DestructionMinutes:
    """Write the signed minutes of a finished run, chained to the schema's previous minutes.

    ``affected_ids_digest`` is the SHA-256 over the sorted ids the run ended, which anyone
    holding the ids can recompute; the ids themselves are not kept here.
    """
    with connection.cursor() as cursor:  # one chain per schema: writers queue here briefly
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", [_MINUTES_LOCK_CLASS]
        )
    last = DestructionMinutes.objects.order_by("-seq").first()
    seq, prev_hash = (last.seq + 1, last.entry_hash) if last else (1, GENESIS)
    body = minutes_body(run=run, affected_ids_digest=affected_ids_digest)
    entry_hash = minutes_hash(seq=seq, prev_hash=prev_hash, body=body)
    today = timezone.localdate()
    return DestructionMinutes.objects.create(
        run=run,
        seq=seq,
        body=body,
        prev_hash=prev_hash,
        entry_hash=entry_hash,
        key_id=signing.key_id(),
        signature=signing.sign(entry_hash.encode()),
        keep_until=today.replace(year=today.year + DESTRUCTION_RECORDS_MIN_YEARS)
        if not (today.month == 2 and today.day == 29)
        else today + timedelta(days=365 * DESTRUCTION_RECORDS_MIN_YEARS + 1),
    )
