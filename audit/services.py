"""The only code that writes the processing log (KVKK Art. 12: security measures)."""

import hashlib
import json
import logging
import os
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django_tenants.utils import schema_context

from audit import signing
from audit.models import Action, AuditEntry, ChainLink, Checkpoint, UnlinkedEntry
from config.client_ip import client_ip

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
# Key space of the advisory lock that serialises linking in one schema's chain.
_CHAIN_LOCK_CLASS = 0x4B564B4B  # "KVKK"


def entry_digest(*, seq: int, at: str, prev_hash: str, fields: dict[str, Any]) -> str:
    """SHA-256 over a canonical JSON form of the entry and its predecessor's hash."""
    payload = {"seq": seq, "at": at, "prev_hash": prev_hash, **fields}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# How json.dumps(ensure_ascii=False) writes a string (the C encoder where there is one).
json_string = json.encoder.encode_basestring


def detail_canonical(detail: Any) -> str:
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_canonical(
    seq: int,
    at: str,
    prev_hash: str,
    action: str,
    actor_id: int | None,
    actor_label: str,
    detail: str,
    ip_address: str | None,
    object_id: str,
    object_type: str,
    purpose: str,
    subject_ref: str,
) -> str:
    """The text entry_digest hashes, written out directly (no dict, no sorting), for speed.

    ``detail`` is the already canonical JSON of the detail (detail_canonical). The keys
    are written in sorted order; a test holds this byte for byte to entry_digest on varied
    entries. ``at`` (an ISO time) and ``prev_hash`` (a hex digest) are machine-written
    and need no escaping; every other string is escaped as json.dumps escapes it.
    Positional arguments: the chain walk calls it a million times.
    """
    string = json_string
    return (
        f'{{"action":{string(action)},"actor_id":{"null" if actor_id is None else actor_id},'
        f'"actor_label":{string(actor_label)},"at":"{at}","detail":{detail},'
        f'"ip_address":{"null" if ip_address is None else string(ip_address)},'
        f'"object_id":{string(object_id)},"object_type":{string(object_type)},'
        f'"prev_hash":"{prev_hash}","purpose":{string(purpose)},"seq":{seq},'
        f'"subject_ref":{string(subject_ref)}}}'
    )


def hashed_fields(entry: AuditEntry) -> dict[str, Any]:
    return {
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "subject_ref": entry.subject_ref,
        "purpose": entry.purpose,
        "detail": entry.detail,
        "ip_address": entry.ip_address,
    }


def _printable(value: Any) -> Any:
    """Without null characters, which PostgreSQL stores in no text or JSON value: whatever
    a caller passes on from outside (a typed user name, a stated purpose), the act is logged."""
    if isinstance(value, str):
        return value.replace("\x00", "\N{REPLACEMENT CHARACTER}")
    if isinstance(value, dict):
        return {_printable(key): _printable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_printable(item) for item in value]
    return value


def audit_entry_create(
    *,
    action: Action | str,
    actor: Any = None,
    actor_label: str = "",
    target: models.Model | None = None,
    subject_ref: str = "",
    purpose: str = "",
    detail: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEntry:
    """Record one processing act in the current schema's log and return the entry.

    ``actor`` is the acting user (or None for the system); ``target`` the
    object acted on. The entry is written in the caller's transaction, without
    any lock, so it commits or rolls back with the act; once that transaction
    commits, audit_chain_link() gives it its place in the chain.
    """
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_id, label = actor.pk, actor_label or actor.get_username()
    else:
        actor_id, label = None, actor_label or "system"
    entry = AuditEntry.objects.create(
        at=timezone.now(),
        actor_id=actor_id,
        actor_label=_printable(label)[:150],
        action=str(action),
        object_type=target._meta.label if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        subject_ref=_printable(str(subject_ref)),
        purpose=_printable(str(purpose))[:255],
        detail=_printable(detail or {}),
        ip_address=client_ip(request),
    )
    UnlinkedEntry.objects.create(entry=entry)
    schema = connection.schema_name
    # Runs at once outside a transaction. A failure to link is logged, never raised into
    # the act that already committed: the next link, or the nightly check, links the rest.
    transaction.on_commit(lambda: _link_in(schema), robust=True)
    return entry


def _link_in(schema: str) -> None:
    with schema_context(schema):
        audit_chain_link(wait=False)


# After-commit linking passes over the queue at most this often in one call: under a
# steady stream of appends the others' own calls link what arrives after.
_LINK_PASSES = 20


def audit_chain_link(*, wait: bool = True) -> int:
    """Link every committed entry still waiting into the current schema's chain.

    Each pass is one short transaction under the per-schema advisory lock, so
    concurrent linkers never fork the chain. Returns how many entries were linked.

    ``wait=False`` is the after-commit path: a writer that finds the lock taken
    leaves at once instead of queueing behind every other writer, because the
    holder looks at the queue again after it commits. An entry committed before
    that look is seen by it; one committed after it is linked by its own writer,
    which then finds the lock free. So every committed entry is linked within
    milliseconds, and eight writers do not form a convoy on the lock.
    """
    linked = 0
    for _ in range(_LINK_PASSES):
        with transaction.atomic():
            with connection.cursor() as cursor:
                if wait:
                    cursor.execute(
                        "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))",
                        [_CHAIN_LOCK_CLASS],
                    )
                else:
                    cursor.execute(
                        "SELECT pg_try_advisory_xact_lock(%s, hashtext(current_schema()))",
                        [_CHAIN_LOCK_CLASS],
                    )
                    if not cursor.fetchone()[0]:
                        return linked  # the holder re-reads the queue once it has committed
            linked += _link_waiting()
        if wait or not UnlinkedEntry.objects.exists():
            return linked
    return linked


def _link_waiting() -> int:
    """One pass, under the lock: links for the waiting entries in id order, the queue emptied.

    The pass commits without waiting for its WAL flush, so the lock is not held through a
    disk write. Nothing is lost that way: the entries themselves were committed durably with
    their acts, and a pass lost in a crash loses its links and its queue deletions together,
    so those entries wait again and are linked anew. A checkpoint, committed durably, flushes
    the log up to itself, so no pass it signed can be lost.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
    waiting = list(
        AuditEntry.objects.filter(pk__in=UnlinkedEntry.objects.values("entry_id")).order_by("pk")
    )
    if not waiting:
        return 0
    head = ChainLink.objects.order_by("-seq").only("seq", "entry_hash").first()
    seq, prev_hash = (head.seq, head.entry_hash) if head else (0, GENESIS_HASH)
    links = []
    for entry in waiting:
        seq += 1
        digest = entry_digest(
            seq=seq, at=entry.at.isoformat(), prev_hash=prev_hash, fields=hashed_fields(entry)
        )
        links.append(ChainLink(seq=seq, entry=entry, prev_hash=prev_hash, entry_hash=digest))
        prev_hash = digest
    ChainLink.objects.bulk_create(links)
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM audit_unlinkedentry WHERE entry_id = ANY(%s)",
            [[entry.pk for entry in waiting]],
        )
    return len(links)


def checkpoint_message(
    *, schema_name: str, seq: int, entry_hash: str, signed_at: str, taken_by: str, key_id: str
) -> bytes:
    """The bytes a checkpoint's signature covers: canonical JSON of what it states."""
    statement = {
        "v": 1,
        "schema": schema_name,
        "seq": seq,
        "entry_hash": entry_hash,
        "signed_at": signed_at,
        "taken_by": taken_by,
        "key_id": key_id,
    }
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def checkpoint_log_line(checkpoint: Checkpoint) -> str:
    """The checkpoint as one JSON line: the signed statement, its signature and the key."""
    return json.dumps(
        {
            "schema": checkpoint.schema_name,
            "seq": checkpoint.seq,
            "entry_hash": checkpoint.entry_hash,
            "signed_at": checkpoint.signed_at.isoformat(),
            "taken_by": checkpoint.taken_by,
            "key_id": checkpoint.key_id,
            "signature": checkpoint.signature,
            "fingerprint": signing.fingerprint(),
        },
        ensure_ascii=False,
    )


def _checkpoint_log_append(line: str) -> None:
    path = settings.AUDIT_CHECKPOINT_LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    # One write on an O_APPEND descriptor: concurrent writers never interleave a line.
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(descriptor, (line + "\n").encode("utf-8"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def audit_checkpoint_take(*, taken_by: str) -> Checkpoint:
    """Sign the current schema's chain head with the platform's key (KVKK Art. 12).

    Links the entries still waiting first, so the checkpoint covers every committed
    act. The checkpoint is stored in the public schema, where the controller's own
    log cannot reach it, and once committed it is appended to the checkpoint log
    file as well: a chain rebuilt later, even by someone with database access,
    no longer matches what was signed.
    """
    schema = connection.schema_name
    audit_chain_link()
    head = ChainLink.objects.order_by("-seq").only("seq", "entry_hash").first()
    seq, entry_hash = (head.seq, head.entry_hash) if head else (0, GENESIS_HASH)
    signed_at, key_id, label = timezone.now(), signing.key_id(), taken_by[:150]
    message = checkpoint_message(
        schema_name=schema,
        seq=seq,
        entry_hash=entry_hash,
        signed_at=signed_at.isoformat(),
        taken_by=label,
        key_id=key_id,
    )
    with schema_context("public"):
        checkpoint = Checkpoint.objects.create(
            schema_name=schema,
            seq=seq,
            entry_hash=entry_hash,
            signed_at=signed_at,
            taken_by=label,
            key_id=key_id,
            signature=signing.sign(message),
        )
    line = checkpoint_log_line(checkpoint)
    transaction.on_commit(lambda: _checkpoint_log_append(line))
    return checkpoint
