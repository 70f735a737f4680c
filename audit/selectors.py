"""Reads of the processing log."""

import contextlib
import gc
import json
import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from hashlib import sha256

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_tenants.utils import schema_context

from audit import signing
from audit.models import AuditEntry, ChainLink, Checkpoint, UnlinkedEntry
from audit.services import (
    GENESIS_HASH,
    checkpoint_message,
    detail_canonical,
    json_string,
)

logger = logging.getLogger(__name__)

# Rows fetched per round trip from the server-side cursor of the chain walk.
_VERIFY_CHUNK = 10_000
# Canonical forms of detail texts seen in one walk: many entries share the same detail.
_DETAIL_CACHE_MAX = 50_000
# Where the outcome of the last full walk is kept for the processing-log page (per schema:
# the cache's key function adds the schema name).
_LAST_VERIFY_KEY = "audit-chain-last-verification"

# One row per link, oldest first, with the entry's hashed fields in the order
# entry_canonical takes them; the time as the database writes it in UTC with ISO dates (the
# walk turns it into what datetime.isoformat() writes), the address as the portal reads it.
CHAIN_SQL = """
SELECT l.seq, l.prev_hash, l.entry_hash, e.at::text, e.action, e.actor_id, e.actor_label,
       e.detail::text, e.ip_address, e.object_id, e.object_type, e.purpose, e.subject_ref
  FROM audit_chainlink l JOIN audit_auditentry e ON e.id = l.entry_id
 ORDER BY l.seq
"""


@dataclass(frozen=True)
class ChainReport:
    entries: int
    broken_seq: int | None = None
    reason: str = ""
    waiting: int = 0  # committed entries still waiting for their link
    checkpoints: int = 0  # signed checkpoints the chain was held against
    last_checkpoint: Checkpoint | None = None

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


@dataclass(frozen=True)
class CheckpointStatus:
    """The last checkpoint of a schema, checked cheaply (one link looked up, one signature)."""

    checkpoint: Checkpoint | None
    signature_ok: bool = False
    matches_chain: bool = False
    head_seq: int = 0

    @property
    def ok(self) -> bool:
        return self.checkpoint is not None and self.signature_ok and self.matches_chain

    @property
    def entries_since(self) -> int:
        return self.head_seq - self.checkpoint.seq if self.checkpoint else self.head_seq


@dataclass
class _Walk:
    """What the chain walk found: how far it got, and the hashes at the seqs asked for."""

    count: int = 0
    head_seq: int = 0
    broken_seq: int | None = None
    reason: str = ""
    hashes: dict[int, str] = field(default_factory=dict)


def audit_entry_list(
    *,
    action: str = "",
    actor: str = "",
    actor_id: int | None = None,
    subject_ref: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEntry]:
    """Entries of the current schema, newest first, filtered as the processing-log page asks.

    Dates are whole days in the portal's time zone, both ends included; a subject
    reference matches from its start (the short form the page shows will do).
    """
    entries = AuditEntry.objects.select_related("link")
    if action:
        entries = entries.filter(action=action)
    if actor:
        entries = entries.filter(actor_label__icontains=actor)
    if actor_id is not None:
        entries = entries.filter(actor_id=actor_id)
    if subject_ref:
        entries = entries.filter(subject_ref__startswith=subject_ref.lower())
    zone = timezone.get_current_timezone()
    if date_from:
        entries = entries.filter(at__gte=datetime.combine(date_from, time.min, zone))
    if date_to:
        entries = entries.filter(
            at__lt=datetime.combine(date_to + timedelta(days=1), time.min, zone)
        )
    return entries.order_by("-id")


def chain_rows(chunk: int = _VERIFY_CHUNK) -> Iterator[list[tuple]]:
    """The current schema's links with their entries (CHAIN_SQL), streamed in chunks.

    A server-side cursor inside a transaction, so the rows come as the walk takes them,
    never all at once. A thread fetches the next chunk while the caller works on this one:
    the database prepares rows while Python hashes (psycopg lets go of the GIL while it
    waits), so the walk costs about the larger of the two, not their sum.
    """
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        with connection.cursor() as settings_cursor:
            # The time's text must be ISO and UTC whatever the server's defaults; compiling
            # this plain projection would cost more than it saves.
            settings_cursor.execute(
                "SELECT set_config('DateStyle', 'ISO', true), set_config('TimeZone', 'UTC', true),"
                " set_config('jit', 'off', true)"
            )
        cursor.execute(CHAIN_SQL)
        server_cursor = cursor.cursor
        chunks: queue.Queue = queue.Queue(maxsize=2)
        stop = threading.Event()

        def fetch() -> None:
            try:
                while not stop.is_set():
                    rows = server_cursor.fetchmany(chunk)
                    chunks.put(rows)
                    if not rows:
                        return
            except BaseException as exc:  # handed to the caller's thread
                chunks.put(exc)

        fetcher = threading.Thread(target=fetch, name="chain-rows", daemon=True)
        fetcher.start()
        try:
            while True:
                rows = chunks.get()
                if isinstance(rows, BaseException):
                    raise rows
                if not rows:
                    return
                yield rows
        finally:
            stop.set()
            while fetcher.is_alive():  # a fetch under way puts once more: take it
                with contextlib.suppress(queue.Empty):
                    chunks.get(timeout=0.05)
            fetcher.join()


def _walk(wanted: set[int]) -> _Walk:
    """Recompute every link's hash, oldest first, and stop at the first that does not hold.

    The reasons are those the walk has always given. The hashes at the seqs in
    ``wanted`` (the checkpoints') are kept for the checkpoint comparison.
    """
    walk = _Walk()
    with _collector_paused():
        return _walk_rows(walk, wanted)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The walk makes millions of short-lived tuples and strings, none in a cycle: Python's
    cycle collector would only rescan the whole process again and again meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _walk_rows(walk: _Walk, wanted: set[int]) -> _Walk:
    expected_prev, expected_seq = GENESIS_HASH, 1
    details: dict[str, str] = {"{}": "{}"}
    string = json_string
    for rows in chain_rows():
        for (
            seq,
            prev_hash,
            entry_hash,
            at,
            action,
            actor_id,
            actor_label,
            detail,
            ip_address,
            object_id,
            object_type,
            purpose,
            subject_ref,
        ) in rows:
            if seq != expected_seq:
                walk.count = expected_seq  # rows read, this one included
                walk.broken_seq = seq
                walk.reason = f"expected entry #{expected_seq}, found #{seq}"
                return walk
            if prev_hash != expected_prev:
                walk.count = expected_seq
                walk.broken_seq, walk.reason = seq, "link to the previous entry does not match"
                return walk
            canonical_detail = details.get(detail)
            if canonical_detail is None:
                if len(details) > _DETAIL_CACHE_MAX:
                    details = {"{}": "{}"}
                canonical_detail = details[detail] = detail_canonical(json.loads(detail))
            # "2026-03-01 09:30:00.12+00" as isoformat() writes it: the fraction padded to
            # six digits, left out when the database left it out (a whole second)
            at = at[:-3]
            if len(at) > 19:
                at += "0" * (26 - len(at))
            # entry_canonical(...), inline: a call per entry costs a tenth of the walk. The
            # tests hold both, and the walk, to entry_digest.
            text = (
                f'{{"action":{string(action)},'
                f'"actor_id":{"null" if actor_id is None else actor_id},'
                f'"actor_label":{string(actor_label)},"at":"{at[:10]}T{at[11:]}+00:00",'
                f'"detail":{canonical_detail},'
                f'"ip_address":{"null" if ip_address is None else string(ip_address)},'
                f'"object_id":{string(object_id)},"object_type":{string(object_type)},'
                f'"prev_hash":"{prev_hash}","purpose":{string(purpose)},"seq":{seq},'
                f'"subject_ref":{string(subject_ref)}}}'
            )
            if sha256(text.encode()).hexdigest() != entry_hash:
                walk.count = expected_seq
                walk.broken_seq, walk.reason = seq, "entry content does not match its hash"
                return walk
            if seq in wanted:
                walk.hashes[seq] = entry_hash
            expected_prev, expected_seq = entry_hash, expected_seq + 1
    walk.count = walk.head_seq = expected_seq - 1
    return walk


def _checkpoint_from_line(line: str) -> Checkpoint | None:
    try:
        data = json.loads(line)
        return Checkpoint(
            schema_name=data["schema"],
            seq=int(data["seq"]),
            entry_hash=str(data["entry_hash"]),
            signed_at=datetime.fromisoformat(data["signed_at"]),
            taken_by=str(data["taken_by"]),
            key_id=str(data["key_id"]),
            signature=str(data["signature"]),
        )
    except (ValueError, KeyError, TypeError):
        return None


def checkpoints_for(schema_name: str) -> list[Checkpoint]:
    """Every checkpoint of a schema: the public schema's rows and the log file's lines.

    The file is the copy outside the database: a checkpoint removed from the table by
    someone with database access still counts. Oldest first, each signature once.
    """
    with schema_context("public"):
        found = list(Checkpoint.objects.filter(schema_name=schema_name).order_by("seq", "id"))
    signatures = {checkpoint.signature for checkpoint in found}
    path = settings.AUDIT_CHECKPOINT_LOG
    # The file holds every controller's nights: lines of other schemas are skipped unparsed.
    needle = json.dumps({"schema": schema_name}, ensure_ascii=False)[1:-1]
    if path.exists():
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if needle not in line:
                    continue
                checkpoint = _checkpoint_from_line(line)
                if checkpoint is None:
                    logger.warning("%s line %s is not a checkpoint", path, number)
                elif (
                    checkpoint.schema_name == schema_name and checkpoint.signature not in signatures
                ):
                    signatures.add(checkpoint.signature)
                    found.append(checkpoint)
    return sorted(found, key=lambda checkpoint: (checkpoint.seq, checkpoint.signed_at))


def checkpoint_signature_valid(checkpoint: Checkpoint) -> bool:
    if checkpoint.key_id != signing.key_id():
        return False
    message = checkpoint_message(
        schema_name=checkpoint.schema_name,
        seq=checkpoint.seq,
        entry_hash=checkpoint.entry_hash,
        signed_at=checkpoint.signed_at.isoformat(),
        taken_by=checkpoint.taken_by,
        key_id=checkpoint.key_id,
    )
    return signing.signature_valid(message, checkpoint.signature)


def _against_checkpoints(walk: _Walk, checkpoints: list[Checkpoint]) -> tuple[int, str] | None:
    """The first checkpoint the chain does not keep: (its seq, why), or None."""
    for checkpoint in checkpoints:
        signed = f"{checkpoint.signed_at:%Y-%m-%d %H:%M} UTC"
        if not checkpoint_signature_valid(checkpoint):
            return checkpoint.seq, f"the checkpoint of {signed} has no valid signature"
        if checkpoint.seq == 0:
            continue
        if checkpoint.seq > walk.head_seq:
            return checkpoint.seq, (
                f"the chain ends at #{walk.head_seq}, but the checkpoint of {signed} "
                f"signed #{checkpoint.seq}"
            )
        if walk.hashes.get(checkpoint.seq) != checkpoint.entry_hash:
            return checkpoint.seq, f"entry differs from the checkpoint signed {signed}"
    return None


def audit_chain_verify() -> ChainReport:
    """Walk the current schema's chain, hold it against its signed checkpoints, report the first break.

    Every entry must be linked, or still wait in the queue: an entry that is
    neither was taken out of the chain's reach. A chain rebuilt from scratch,
    every hash recomputed, passes the walk but not the checkpoints signed before.
    """
    checkpoints = checkpoints_for(connection.schema_name)
    walk = _walk({checkpoint.seq for checkpoint in checkpoints})
    last = checkpoints[-1] if checkpoints else None
    if walk.broken_seq is not None:
        return ChainReport(walk.count, walk.broken_seq, walk.reason, last_checkpoint=last)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM audit_auditentry), (SELECT count(*) FROM audit_unlinkedentry)"
        )
        entries, waiting = cursor.fetchone()
    # Only when the counts disagree is it worth looking for the entry outside the chain's reach.
    stray = None
    if entries != walk.count + waiting:
        stray = (
            AuditEntry.objects.filter(link__isnull=True)
            .exclude(pk__in=UnlinkedEntry.objects.values("entry_id"))
            .order_by("pk")
            .first()
        )
    if stray is not None:
        return ChainReport(
            walk.count, walk.head_seq + 1, f"entry {stray.pk} is in no link", waiting
        )
    broken = _against_checkpoints(walk, checkpoints)
    if broken is not None:
        return ChainReport(walk.count, *broken, waiting, len(checkpoints), last)
    return ChainReport(
        walk.count, waiting=waiting, checkpoints=len(checkpoints), last_checkpoint=last
    )


def audit_chain_verify_recorded() -> ChainReport:
    """audit_chain_verify(), its outcome kept for the processing-log page."""
    report = audit_chain_verify()
    cache.set(
        _LAST_VERIFY_KEY,
        {
            "at": timezone.now(),
            "ok": report.ok,
            "entries": report.entries,
            "broken_seq": report.broken_seq,
        },
        timeout=None,
    )
    return report


def last_verification() -> dict | None:
    """The outcome of the last full walk of this schema's chain (nightly or audit_verify)."""
    return cache.get(_LAST_VERIFY_KEY)


def checkpoint_status() -> CheckpointStatus:
    """The current schema's last checkpoint against its chain, without walking the chain."""
    schema = connection.schema_name
    with schema_context("public"):
        checkpoint = Checkpoint.objects.filter(schema_name=schema).order_by("-id").first()
    head = ChainLink.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    if checkpoint is None:
        return CheckpointStatus(None, head_seq=head)
    if checkpoint.seq == 0:
        matches = True
    else:
        matches = ChainLink.objects.filter(
            seq=checkpoint.seq, entry_hash=checkpoint.entry_hash
        ).exists()
    return CheckpointStatus(checkpoint, checkpoint_signature_valid(checkpoint), matches, head)
