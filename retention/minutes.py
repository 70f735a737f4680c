"""Destruction minutes (imha tutanağı): one signed, chained record per destruction run.

Regulation Art. 7(3): every deletion, destruction and anonymisation is recorded and the
records are kept at least three years (config.kvkk.DESTRUCTION_RECORDS_MIN_YEARS). The
record holds counts and a digest of the affected ids, never the data; it is chained to
the minutes before it and signed with the platform's Ed25519 key (audit.signing), whose
public key the platform host publishes. retention.minutes_chain checks a chain with the
public key alone; the database refuses to change a record, and to remove one before its
keeping date (migration retention 0002).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit import signing
from config.kvkk import DESTRUCTION_RECORDS_MIN_YEARS
from retention import minutes_chain
from retention.minutes_chain import GENESIS, canonical, minutes_hash
from retention.models import (
    DestructionMinutes,
    DestructionRun,
    MinutesPurge,
    RetentionRule,
)
from subjects.models import DataCategory

__all__ = [
    "ANCHOR",
    "GENESIS",
    "MinutesReport",
    "RecordStatus",
    "canonical",
    "minutes_body",
    "minutes_chain_verify",
    "minutes_document",
    "minutes_expire",
    "minutes_hash",
    "minutes_record",
    "minutes_record_dict",
    "minutes_record_status",
]

_MINUTES_LOCK_CLASS = 0x494D4841  # "IMHA"
# Targets removed per statement when a finished run's targets go: bounded transactions,
# so a run of a million items never holds one long lock.
TARGET_PURGE_BATCH = 20_000
# Why a purge record itself fails (besides the reasons of retention.minutes_chain).
ANCHOR = "anchor"


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February: the day after 28 February of that year
        return day.replace(year=day.year + years, day=28) + timedelta(days=1)


def _person(user) -> dict | None:
    if user is None:
        return None
    return {"name": user.get_full_name() or user.get_username(), "username": user.get_username()}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _controller() -> dict:
    """The controller as the minutes name it: its schema and, when the request or task entered
    a full tenant (connection.tenant), its legal name; retention cannot import tenants."""
    schema = connection.schema_name
    tenant = getattr(connection, "tenant", None)
    name = getattr(tenant, "legal_name", "") or schema
    return {"schema": schema, "name": name}


def _rule_description(rule: RetentionRule | None) -> dict | None:
    if rule is None:
        return None
    return {
        "period": rule.period,
        "unit": rule.period_unit,
        "event": rule.event,
        "named_date": rule.named_date.isoformat() if rule.named_date else None,
        "source": rule.source,
        "legal_reference": rule.legal_reference,
    }


def _count(value) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _applied(counts) -> list[dict]:
    """run.counts as rows: category (code and name), rule, method, items, held, subjects.

    The scan keys counts by category code ({"<code>": {"method", "rule", "items", "held",
    "subjects"}}); a list of such rows with a "category" key is read as well."""
    if isinstance(counts, dict):
        entries = [
            {"category": str(key), **value}
            for key, value in counts.items()
            if isinstance(value, dict)
        ]
    elif isinstance(counts, list):
        entries = [dict(value) for value in counts if isinstance(value, dict)]
    else:
        entries = []
    codes = {str(entry.get("category", "")) for entry in entries}
    categories = {
        category.code: category
        for category in DataCategory.objects.filter(code__in=codes).select_related("retention_rule")
    }
    by_id = {
        str(category.pk): category
        for category in DataCategory.objects.filter(
            pk__in=[int(code) for code in codes - categories.keys() if code.isdigit()]
        ).select_related("retention_rule")
    }
    rows = []
    for entry in entries:
        code = str(entry.get("category", ""))
        category = categories.get(code) or by_id.get(code)
        rule = entry.get("rule")
        if not isinstance(rule, dict) and category is not None:
            rule = _rule_description(getattr(category, "retention_rule", None)) or rule
        rows.append(
            {
                "category": category.code if category else code,
                "category_name": category.name if category else code,
                "rule": rule,
                "method": entry.get("method", ""),
                "items": _count(entry.get("items")),
                "held": _count(entry.get("held")),
                "subjects": _count(entry.get("subjects")),
            }
        )
    return sorted(rows, key=lambda row: (row["category_name"], row["method"]))


def minutes_body(
    *, run: DestructionRun, affected_ids_digest: str, keep_until: date | None = None
) -> dict:
    """What the minutes say of a run: the controller; the run, its kind and reason; who
    approved it and when, or that it ran automatically; per category the rule, method and
    counts; what was held and why; the digest of the affected ids; when the last backup
    that may still hold the data expires; until when the minutes are kept."""
    applied = _applied(run.counts)
    held_total = sum(_count(hold.get("items")) for hold in run.held if isinstance(hold, dict))
    finished = run.finished_at or timezone.now()
    backup_days = settings.PORTAL_BACKUP_RETENTION_DAYS
    return {
        "controller": _controller(),
        "run": {"id": run.pk, "uuid": str(run.uuid)},
        "kind": run.kind,
        "reason": run.reason,
        "requested_by": _person(run.created_by),
        "approval": {
            "automatic": run.executed_automatically,
            "by": _person(run.approved_by),
            "at": _iso(run.approved_at),
        },
        "scanned_at": _iso(run.scanned_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "applied": applied,
        "totals": {
            "items": sum(row["items"] for row in applied),
            "subjects": sum(row["subjects"] for row in applied),
            "held": max(held_total, sum(row["held"] for row in applied)),
        },
        "held": run.held,
        "affected_ids_digest": affected_ids_digest,
        "backup_retention_days": backup_days,
        "backups_expire_on": (
            timezone.localtime(finished).date() + timedelta(days=backup_days)
        ).isoformat(),
        "keep_until": keep_until.isoformat() if keep_until else None,
    }


def _lock() -> None:
    with connection.cursor() as cursor:  # one chain per schema: writers queue here briefly
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", [_MINUTES_LOCK_CLASS]
        )


def _chain_head() -> tuple[int, str]:
    """The seq and prev_hash of the next record: after the last one, or after the last purge."""
    last = DestructionMinutes.objects.order_by("-seq").first()
    if last is not None:
        return last.seq + 1, last.entry_hash
    purge = MinutesPurge.objects.order_by("-purged_through_seq").first()
    if purge is not None:
        return purge.first_kept_seq, purge.anchor_hash
    return 1, GENESIS


@transaction.atomic
def minutes_record(
    *, run: DestructionRun, affected_ids_digest: str, now: datetime | None = None
) -> DestructionMinutes:
    """Write the signed minutes of a finished run, chained to the schema's previous minutes
    (Regulation Art. 7(3)); kept DESTRUCTION_RECORDS_MIN_YEARS from ``now``.

    ``affected_ids_digest`` is the SHA-256 over the sorted ids the run ended, which anyone
    holding the ids can recompute; the ids themselves are not kept here.
    """
    _lock()
    existing = DestructionMinutes.objects.filter(run=run).first()
    if existing is not None:  # a resumed run never gets a second record
        return existing
    seq, prev_hash = _chain_head()
    keep_until = _years_later(
        timezone.localtime(now).date() if now else timezone.localdate(),
        DESTRUCTION_RECORDS_MIN_YEARS,
    )
    body = minutes_body(run=run, affected_ids_digest=affected_ids_digest, keep_until=keep_until)
    entry_hash = minutes_hash(seq=seq, prev_hash=prev_hash, body=body)
    return DestructionMinutes.objects.create(
        run=run,
        seq=seq,
        body=body,
        prev_hash=prev_hash,
        entry_hash=entry_hash,
        key_id=signing.key_id(),
        signature=signing.sign(entry_hash.encode()),
        keep_until=keep_until,
    )


# --- Verification -------------------------------------------------------------------------

_RECORD_FIELDS = ("seq", "body", "prev_hash", "entry_hash", "key_id", "signature")


@dataclass(frozen=True)
class MinutesReport:
    """A schema's minutes chain, walked: records intact, the first broken seq and why."""

    records: int
    broken_seq: int | None = None
    problem: str = ""
    reason: str = ""
    first_seq: int | None = None
    last_seq: int | None = None
    purge: MinutesPurge | None = None

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def _purge_valid(purge: MinutesPurge) -> bool:
    message = minutes_chain.anchor_message(
        purged_through_seq=purge.purged_through_seq, anchor_hash=purge.anchor_hash
    )
    return purge.first_kept_seq == purge.purged_through_seq + 1 and signing.signature_valid(
        message, purge.signature
    )


def minutes_chain_verify() -> MinutesReport:
    """Walk the current schema's minutes in seq order (Regulation Art. 7(3) records): each
    entry_hash recomputed from its body, each prev_hash the hash before, each signature valid
    with the platform's public key; the chain starts at seq 1, or at the last signed purge."""
    purge = MinutesPurge.objects.order_by("-purged_through_seq").first()
    start = (1, GENESIS)
    if purge is not None:
        if not _purge_valid(purge):
            return MinutesReport(
                0,
                purge.first_kept_seq,
                ANCHOR,
                "the purge record's signature is invalid",
                purge=purge,
            )
        start = (purge.first_kept_seq, purge.anchor_hash)
    records = DestructionMinutes.objects.order_by("seq").values(*_RECORD_FIELDS).iterator(2000)
    result = minutes_chain.chain_check(records, public_key=signing.public_key(), start=start)
    return MinutesReport(
        result.records,
        result.broken_seq,
        result.problem,
        result.reason,
        result.first_seq,
        result.last_seq,
        purge,
    )


@dataclass(frozen=True)
class RecordStatus:
    """One record as its page shows it: its own hash and signature, its link, the chain."""

    hash_ok: bool
    signature_ok: bool
    link_ok: bool
    chain: MinutesReport

    @property
    def ok(self) -> bool:
        return self.hash_ok and self.signature_ok and self.link_ok and self.chain.ok


def minutes_record_status(*, minutes: DestructionMinutes) -> RecordStatus:
    record = {field: getattr(minutes, field) for field in _RECORD_FIELDS}
    problem = minutes_chain.record_check(record, signing.public_key())
    before = DestructionMinutes.objects.filter(seq=minutes.seq - 1).only("entry_hash").first()
    if before is not None:
        link_ok = before.entry_hash == minutes.prev_hash
    else:
        purge = MinutesPurge.objects.filter(first_kept_seq=minutes.seq).first()
        expected = purge.anchor_hash if purge else (GENESIS if minutes.seq == 1 else None)
        link_ok = expected == minutes.prev_hash
    return RecordStatus(
        hash_ok=problem != minutes_chain.ENTRY_HASH,
        signature_ok=not problem,
        link_ok=link_ok,
        chain=minutes_chain_verify(),
    )


def minutes_record_dict(minutes: DestructionMinutes) -> dict:
    return {
        "seq": minutes.seq,
        "body": minutes.body,
        "prev_hash": minutes.prev_hash,
        "entry_hash": minutes.entry_hash,
        "key_id": minutes.key_id,
        "signature": minutes.signature,
        "created_at": minutes.created_at.isoformat(),
        "keep_until": minutes.keep_until.isoformat(),
    }


def minutes_document(*, records: Iterable[DestructionMinutes], single: bool = False) -> dict:
    """The JSON download, self-describing: how the hash and signature are made, the key's
    fingerprint, and one record (its fields at the top) or {"records": [...]}."""
    head = {
        "format": minutes_chain.FORMAT,
        "algorithm": minutes_chain.ALGORITHM,
        "key_fingerprint_sha256": signing.fingerprint(),
    }
    rows = [minutes_record_dict(minutes) for minutes in records]
    if single:
        return {**head, **rows[0]}
    purge = MinutesPurge.objects.order_by("-purged_through_seq").first()
    if purge is not None:
        head["purge"] = {
            "purged_through_seq": purge.purged_through_seq,
            "first_kept_seq": purge.first_kept_seq,
            "anchor_hash": purge.anchor_hash,
            "purged_at": purge.purged_at.isoformat(),
            "signature": purge.signature,
        }
    return {**head, "records": rows}


# --- Retention of the minutes themselves ---------------------------------------------------


def minutes_expire(*, now: datetime | None = None) -> dict:
    """Remove minutes past their keeping date (at least DESTRUCTION_RECORDS_MIN_YEARS, Art.
    7(3)) and the targets of finished runs, which only the run itself needed.

    Only a prefix of the chain goes (the oldest records), so the chain stays one piece: a
    signed MinutesPurge names the last removed seq and its hash, which the first kept record
    points to. The database refuses to remove a record whose keeping date has not passed."""
    today = timezone.localtime(now).date() if now else timezone.localdate()
    with transaction.atomic():
        _lock()
        with connection.cursor() as cursor:
            # Kept from the first record that must stay; the database's own date bounds it.
            cursor.execute(
                """
                SELECT max(seq), count(*) FROM retention_destructionminutes
                 WHERE keep_until < LEAST(%s::date, current_date)
                   AND seq < COALESCE(
                       (SELECT min(seq) FROM retention_destructionminutes
                         WHERE keep_until >= LEAST(%s::date, current_date)),
                       2147483647)
                """,
                [today, today],
            )
            last_seq, removed = cursor.fetchone()
        if last_seq is not None:
            anchor = DestructionMinutes.objects.get(seq=last_seq).entry_hash
            DestructionMinutes.objects.filter(seq__lte=last_seq).delete()
            MinutesPurge.objects.create(
                purged_through_seq=last_seq,
                records=removed,
                first_kept_seq=last_seq + 1,
                anchor_hash=anchor,
                key_id=signing.key_id(),
                signature=signing.sign(
                    minutes_chain.anchor_message(purged_through_seq=last_seq, anchor_hash=anchor)
                ),
            )
    targets = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                DELETE FROM retention_destructiontarget WHERE id IN (
                    SELECT t.id FROM retention_destructiontarget t
                      JOIN retention_destructionrun r ON r.id = t.run_id
                      JOIN retention_destructionminutes m ON m.run_id = r.id
                     WHERE r.status = %s
                     LIMIT %s)
                """,
                [DestructionRun.Status.DONE, TARGET_PURGE_BATCH],
            )
            targets += cursor.rowcount
            if cursor.rowcount < TARGET_PURGE_BATCH:
                break
    return {"minutes": removed if last_seq is not None else 0, "targets": targets}
