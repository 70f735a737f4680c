"""Processing-log benchmark: appends by concurrent writers, and audit_verify on a long chain.

Appends: ``--audit-writers`` separate processes (bench/audit_writer.py, connected as
the runtime role like web and workers) append to one controller's log at once, each
entry a real audit_entry_create() in a transaction of its own, linked into the chain
right after its commit. The baseline, in the same run: the same processes INSERT the
same rows, a transaction each, into an unchained copy of the table (same columns and
indexes, no queue, no link, no lock).

Verification: a chain of ``--audit-chain`` entries is built with COPY, every hash
computed for real (entry_canonical, the text entry_digest hashes); then
audit_chain_verify() walks it. The baseline streams the same rows through the same
server-side cursor without hashing them: what reading alone costs.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from psycopg import sql

from audit.models import Action, AuditEntry, ChainLink
from audit.selectors import audit_chain_verify, chain_rows
from audit.services import GENESIS_HASH, audit_chain_link, detail_canonical, entry_canonical
from bench.audit_writer import PLAIN_TABLE, PURPOSES

NAME = "audit"
VERIFY_GOAL = 200_000  # entries/s audit_verify walks (issue 8)
# Walks of the long chain, each beside a stream of the same rows; the best of each counts
# (other work on a shared machine only ever slows a round down).
ROUNDS = 3
ROOT = Path(__file__).resolve().parent.parent

ACTORS = ("Ayşe Yılmaz", "Mehmet Öztürk", "api:crm", "csv:şükrü", "system")
OBJECT_TYPES = ("subjects.DataSubject", "subjects.PersonalDataItem", "subjects.Interaction", "")
DETAILS = (
    {},
    {"event": "lookup", "kinds": ["tckn"], "matches": 1},
    {"fields": ["name", "group"]},
    {"event": "items_added", "items": [101, 102, 103]},
    {"event": "attachment_download", "bytes": 48213},
)


def _count(low: int):
    def parse(text: str) -> int:
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is less than {low}")
        return value

    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("audit")
    group.add_argument(
        "--audit-writers",
        type=_count(1),
        default=8,
        help="concurrent writer processes appending to one controller's log (8)",
    )
    group.add_argument(
        "--audit-appends", type=_count(1), default=1000, help="appends per writer (1000)"
    )
    group.add_argument(
        "--audit-chain",
        type=_count(1),
        default=1_000_000,
        help="entries of the chain audit_verify walks (1000000)",
    )


@dataclass
class Figures:
    writers: int
    appends: int  # per writer
    chained_seconds: float = 0.0
    plain_seconds: float = 0.0
    chain_entries: int = 0
    build_seconds: float = 0.0
    verify_seconds: float = 0.0
    stream_seconds: float = 0.0

    @property
    def total_appends(self) -> int:
        return self.writers * self.appends

    @property
    def chained_rate(self) -> float:
        return self.total_appends / self.chained_seconds if self.chained_seconds else 0.0

    @property
    def plain_rate(self) -> float:
        return self.total_appends / self.plain_seconds if self.plain_seconds else 0.0

    @property
    def verify_rate(self) -> float:
        return self.chain_entries / self.verify_seconds if self.verify_seconds else 0.0

    @property
    def stream_rate(self) -> float:
        return self.chain_entries / self.stream_seconds if self.stream_seconds else 0.0

    @property
    def verify_ok(self) -> bool:
        return self.verify_rate >= VERIFY_GOAL

    def as_dict(self) -> dict:
        return {
            "writers": self.writers,
            "appends_per_writer": self.appends,
            "chained_appends_per_s": round(self.chained_rate),
            "plain_inserts_per_s": round(self.plain_rate),
            "append_ratio": round(self.chained_rate / self.plain_rate, 4) if self.plain_rate else 0,
            "chain_entries": self.chain_entries,
            "chain_build_seconds": round(self.build_seconds, 2),
            "verify_seconds": round(self.verify_seconds, 2),
            "verify_entries_per_s": round(self.verify_rate),
            "stream_rows_per_s": round(self.stream_rate),
            "verify_goal_entries_per_s": VERIFY_GOAL,
            "verify_goal_met": self.verify_ok,
        }

    def report(self) -> str:
        ratio = self.chained_rate / self.plain_rate if self.plain_rate else 0.0
        return "\n".join(
            [
                f"Processing log: {self.writers} writer processes × {self.appends:,} appends "
                f"in one controller; a chain of {self.chain_entries:,} entries",
                f"{'':<58}{'seconds':>9}{'per s':>11}",
                f"{'audit_entry_create, a transaction each, linked after':<58}"
                f"{self.chained_seconds:>9.2f}{self.chained_rate:>11,.0f}",
                f"{'  baseline: plain INSERT of the same rows, unchained':<58}"
                f"{self.plain_seconds:>9.2f}{self.plain_rate:>11,.0f}",
                f"{'audit_verify walk (hash every entry, check checkpoints)':<58}"
                f"{self.verify_seconds:>9.2f}{self.verify_rate:>11,.0f}",
                f"{'  baseline: stream the same rows, no hashing':<58}"
                f"{self.stream_seconds:>9.2f}{self.stream_rate:>11,.0f}",
                "",
                f"appends chained / plain: {ratio:.1%}",
                f"audit_verify: {self.verify_rate:,.0f} entries/s (goal ≥ {VERIFY_GOAL:,}) "
                f"{'PASS' if self.verify_ok else 'FAIL'}; "
                f"chain built with COPY in {self.build_seconds:.1f} s (counted in neither)",
            ]
        )


# --- Appends ------------------------------------------------------------------------------


def _quoted(name: str) -> sql.Composable:
    return sql.Identifier(connection.schema_name, name)


def plain_table_create() -> None:
    """An unchained copy of the entries table: same columns, defaults and indexes, no triggers."""
    runtime = sql.Identifier(settings.DB_RUNTIME_USER)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_quoted(PLAIN_TABLE)))
        cursor.execute(
            sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
                _quoted(PLAIN_TABLE), _quoted(AuditEntry._meta.db_table)
            )
        )
        cursor.execute(
            sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(_quoted(PLAIN_TABLE), runtime)
        )
        cursor.execute(
            "SELECT pg_get_serial_sequence(%s, 'id')",
            [f'"{connection.schema_name}"."{PLAIN_TABLE}"'],
        )
        (sequence,) = cursor.fetchone()
        if sequence:
            cursor.execute(
                sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(sql.SQL(sequence), runtime)
            )


def writers_run(*, writers: int, appends: int, mode: str) -> float:
    """Start the writer processes, release them together; seconds from first start to last end."""
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"),
        "POSTGRES_DB": db["NAME"],
        "POSTGRES_HOST": str(db["HOST"]),
        "POSTGRES_PORT": str(db["PORT"]),
        "PORTAL_DB_ROLE": "runtime",  # as web and workers connect
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "bench.audit_writer", "--schema", connection.schema_name]
    processes = [
        subprocess.Popen(
            [*command, "--writer", str(k), "--count", str(appends), "--mode", mode],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for k in range(writers)
    ]
    try:
        for process in processes:
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError(f"a {mode} writer did not start")
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        results = []
        for process in processes:
            out, _ = process.communicate(timeout=3600)
            if process.returncode:
                raise RuntimeError(f"a {mode} writer failed (exit {process.returncode})")
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    return max(r["ended"] for r in results) - min(r["started"] for r in results)


# --- A long chain, built fast ----------------------------------------------------------------


def _entry_values(n: int, at: datetime) -> tuple:
    """Entry ``n`` of the built chain: varied, with Turkish text, some fields empty."""
    detail = DETAILS[n % len(DETAILS)]
    return (
        Action.values[n % 6],
        None if n % 5 == 4 else 1 + n % 40,
        ACTORS[n % len(ACTORS)],
        at.isoformat(),
        detail,
        None if n % 3 else f"10.{n % 256}.{(n >> 8) % 256}.{(n >> 16) % 256}",
        str(n) if n % 4 != 3 else "",
        OBJECT_TYPES[n % len(OBJECT_TYPES)],
        PURPOSES[n % len(PURPOSES)],
        str(uuid.UUID(int=n + 1)) if n % 4 != 3 else "",
    )


def chain_build(entries: int) -> float:
    """Append ``entries`` linked entries to the current schema's chain with COPY; seconds.

    The hashes are real: computed from the same canonical text the walk rebuilds.
    """
    began = time.perf_counter()
    audit_chain_link()  # nothing may wait in the queue: the new entries follow the head
    head = ChainLink.objects.order_by("-seq").first()
    seq, prev = (head.seq, head.entry_hash) if head else (0, GENESIS_HASH)
    details = {id(d): (json.dumps(d), detail_canonical(d)) for d in DETAILS}
    base = datetime(2025, 1, 1, tzinfo=UTC)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('audit_auditentry', 'id'),"
            " (SELECT coalesce(max(id), 0) FROM audit_auditentry) + %s)",
            [entries],
        )
        first_id = cursor.fetchone()[0] - entries + 1
        hashes = []
        with cursor.cursor.copy(
            "COPY audit_auditentry (id, at, actor_id, actor_label, action, object_type,"
            " object_id, subject_ref, purpose, detail, ip_address) FROM STDIN"
        ) as copy:
            for n in range(entries):
                # whole seconds now and then: isoformat() then leaves the fraction out
                at = base + timedelta(seconds=n, microseconds=0 if n % 7 == 0 else n % 999_983)
                action, actor_id, label, at_text, detail, ip, oid, otype, purpose, ref = (
                    _entry_values(n, at)
                )
                raw, canonical = details[id(detail)]
                seq += 1
                digest = hashlib.sha256(
                    entry_canonical(
                        seq=seq,
                        at=at_text,
                        prev_hash=prev,
                        action=action,
                        actor_id=actor_id,
                        actor_label=label,
                        detail=canonical,
                        ip_address=ip,
                        object_id=oid,
                        object_type=otype,
                        purpose=purpose,
                        subject_ref=ref,
                    ).encode("utf-8")
                ).hexdigest()
                copy.write_row(
                    (first_id + n, at, actor_id, label, action, otype, oid, ref, purpose, raw, ip)
                )
                hashes.append((prev, digest))
                prev = digest
        first_seq = seq - entries + 1
        with cursor.cursor.copy(
            "COPY audit_chainlink (seq, entry_id, prev_hash, entry_hash) FROM STDIN"
        ) as copy:
            for n, (prev_hash, digest) in enumerate(hashes):
                copy.write_row((first_seq + n, first_id + n, prev_hash, digest))
    # Hint bits set and statistics fresh now, so no autovacuum competes with the walk later.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) audit_auditentry, audit_chainlink")
    return time.perf_counter() - began


def stream_only() -> tuple[int, float]:
    """The baseline: the same rows through the same cursor, not hashed; (rows, seconds)."""
    began, rows = time.perf_counter(), 0
    for chunk in chain_rows():
        rows += len(chunk)
    return rows, time.perf_counter() - began


def run(*, writers: int, appends: int, chain: int, progress=print) -> Figures:
    """Both measurements in the current schema (the owner creates the baseline table)."""
    figures = Figures(writers, appends)
    plain_table_create()
    progress(f"  {writers} writers × {appends:,} appends, chained …")
    figures.chained_seconds = writers_run(writers=writers, appends=appends, mode="chained")
    progress("  … and plain INSERTs of the same rows (baseline) …")
    figures.plain_seconds = writers_run(writers=writers, appends=appends, mode="plain")
    progress(f"  building a chain of {chain:,} entries with COPY …")
    figures.build_seconds = chain_build(chain)
    figures.chain_entries, _ = stream_only()  # warms the database's cache
    progress(f"  walking it: audit_verify, then streaming alone (baseline), best of {ROUNDS} …")
    verify, stream = [], []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        report = audit_chain_verify()
        verify.append(time.perf_counter() - began)
        if not report.ok or report.entries != figures.chain_entries:
            raise AssertionError(f"the built chain does not verify: {report}")
        stream.append(stream_only()[1])
        progress(f"    audit_verify {verify[-1]:.2f} s, streaming {stream[-1]:.2f} s")
    figures.verify_seconds, figures.stream_seconds = min(verify), min(stream)
    return figures


def main(args: argparse.Namespace, *, out_dir: Path, controller: Callable | None = None) -> Figures:
    """Run from bench/run.py inside a throwaway controller's schema."""
    print(
        f"audit: {args.audit_writers} writers × {args.audit_appends:,} appends; "
        f"chain of {args.audit_chain:,} entries",
        flush=True,
    )
    return run(
        writers=args.audit_writers,
        appends=args.audit_appends,
        chain=args.audit_chain,
        progress=lambda text: print(text, flush=True),
    )
