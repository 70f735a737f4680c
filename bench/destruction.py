"""Destruction benchmark: the retention engine against the DELETE a DBA would type by hand.

One controller holds N subjects with 11 items each, stored through the bulk path
(untimed): ten items of every subject are past their retention (a one-year rule
counted from collection), the eleventh (identity, ten years) is not, so every
subject lives on and the engine must also purge the destroyed items' history rows.
The same rows, history and keys are copied into a second controller (an identical
copy, as bench/ingest.py's floor does).

Measured in the same run:
- the dry-run scan of the engine (retention.scan.run_scan): the time to fix the
  targets, the held items and the counts of a run;
- the engine's execution (retention.destruction.run_execute), in a separate process
  as a worker runs it, as the runtime database role: batches in their own
  transactions, the ledger in the key database, the signed minutes and the
  processing-log entry included. Its peak resident memory (VmHWM) is read from the
  kernel at the end;
- the baseline on the copy: one `DELETE … WHERE` of the same items' history rows and
  one of the items, in one transaction — what a DBA would type by hand;
- the engine once more, on a controller a tenth of the size, for its memory at that
  scale: memory stays flat when the peak does not grow with the volume.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.db import connection, connections, transaction
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from bench import data
from bench.ingest import bulk_ingest, floor_load, stored_batch
from config.kvkk import DestructionMethod, RetentionEvent
from retention.models import DestructionRun, PeriodUnit, RetentionRule
from retention.scan import run_scan
from subjects.models import DataCategory

ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.50  # the engine at half the plain DELETE's speed or better
ITEMS_PER_SUBJECT = 11  # data.records cycles ten kinds: the eleventh is contact again
KEPT_CATEGORY = "identity"  # ten years from collection: never expired in the data
BATCH = 1_000  # subjects per bulk-path call while loading (untimed)


def _count(text: str) -> int:
    value = int(text)
    if value < 10:
        raise argparse.ArgumentTypeError("at least 10 subjects")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("destruction")
    group.add_argument(
        "--destroy-subjects",
        type=_count,
        default=100_000,
        help="subjects in the controller, 10 expired items each (default 100000: 1M items)",
    )


@dataclass
class Run:
    """One execution of the engine: items it ended, seconds, the worker's peak memory."""

    items: int
    seconds: float
    peak_mb: float

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0


@dataclass
class Figures:
    subjects: int
    expired: int = 0
    scan_seconds: float = 0.0
    delete_seconds: float = 0.0
    delete_rows: int = 0
    engine: Run | None = None
    small: Run | None = None
    load_seconds: float = 0.0

    @property
    def delete_rate(self) -> float:
        return self.expired / self.delete_seconds if self.delete_seconds else 0.0

    @property
    def ratio(self) -> float:
        return self.engine.rate / self.delete_rate if self.delete_rate else 0.0

    @property
    def memory_growth(self) -> float:
        return self.engine.peak_mb / self.small.peak_mb if self.small else 0.0

    @property
    def ok(self) -> bool:
        return self.ratio >= GOAL

    def report(self) -> str:
        lines = [
            f"destruction: {self.subjects:,} subjects, {self.expired:,} expired items "
            f"(loaded untimed in {self.load_seconds:,.0f} s)",
            f"  dry-run scan                      {self.scan_seconds:8.1f} s "
            f"({self.expired / self.scan_seconds:>9,.0f} items/s)",
            f"  engine (batches, ledger, minutes) {self.engine.seconds:8.1f} s "
            f"({self.engine.rate:>9,.0f} items/s)  peak worker memory "
            f"{self.engine.peak_mb:,.0f} MB",
            f"  plain DELETE … WHERE (+ history)  {self.delete_seconds:8.1f} s "
            f"({self.delete_rate:>9,.0f} items/s)  {self.delete_rows:,} rows",
            f"  engine / plain DELETE             {self.ratio:8.0%}  "
            f"(goal ≥ {GOAL:.0%}: {'met' if self.ok else 'NOT met'})",
        ]
        if self.small:
            lines.append(
                f"  memory at {self.small.items:,} items {self.small.peak_mb:,.0f} MB, at "
                f"{self.engine.items:,} items {self.engine.peak_mb:,.0f} MB "
                f"(× {self.memory_growth:.2f}); engine {self.small.rate:,.0f} items/s there"
            )
        return "\n".join(lines)

    def as_dict(self) -> dict:
        out = {
            "subjects": self.subjects,
            "expired_items": self.expired,
            "scan_seconds": round(self.scan_seconds, 2),
            "engine_seconds": round(self.engine.seconds, 2),
            "engine_items_per_s": round(self.engine.rate),
            "engine_peak_mb": round(self.engine.peak_mb, 1),
            "delete_seconds": round(self.delete_seconds, 2),
            "delete_items_per_s": round(self.delete_rate),
            "ratio": round(self.ratio, 4),
            "goal": GOAL,
        }
        if self.small:
            out |= {
                "small_items": self.small.items,
                "small_peak_mb": round(self.small.peak_mb, 1),
                "small_items_per_s": round(self.small.rate),
            }
        return out


# --- Loading (untimed) ---------------------------------------------------------------------


def load(subjects: int, *, copy_schema: str | None) -> float:
    """Store the subjects through the bulk path, each batch copied as stored; seconds."""
    began = time.perf_counter()
    for first in range(0, subjects, BATCH):
        count = min(BATCH, subjects - first)
        _, _, uuids = bulk_ingest(data.records(first, count, ITEMS_PER_SUBJECT))
        if copy_schema:
            floor_load(stored_batch(uuids, floor_schema=copy_schema), floor_schema=copy_schema)
        if (first // BATCH + 1) % 20 == 0:
            print(f"  loaded {first + count:,} subjects", flush=True)
    return time.perf_counter() - began


def rules_create() -> None:
    """One year from collection for every category in the data, ten years for identity."""
    for category in DataCategory.objects.all():
        kept = category.code == KEPT_CATEGORY
        RetentionRule.objects.update_or_create(
            category=category,
            defaults={
                "period": 10 if kept else 1,
                "period_unit": PeriodUnit.YEARS,
                "event": RetentionEvent.COLLECTED,
                "method": DestructionMethod.DESTROY,
                "source": RetentionRule.Source.CONTROLLER,
            },
        )


def _expired_filter() -> tuple[str, list]:
    cutoff = timezone.now() - timedelta(days=366)
    return (
        "category_id IN (SELECT id FROM subjects_datacategory WHERE code <> %s)"
        " AND collected_at < %s",
        [KEPT_CATEGORY, cutoff],
    )


def expired_count() -> int:
    where, params = _expired_filter()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM subjects_personaldataitem WHERE {where}", params)
        return cursor.fetchone()[0]


# --- The baseline ----------------------------------------------------------------------------


def plain_delete() -> tuple[float, int]:
    """What a DBA would type: the items' history rows, then the items; (seconds, rows)."""
    where, params = _expired_filter()
    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM subjects_historicalpersonaldataitem WHERE id IN"
            f" (SELECT id FROM subjects_personaldataitem WHERE {where})",
            params,
        )
        rows = cursor.rowcount
        cursor.execute(f"DELETE FROM subjects_personaldataitem WHERE {where}", params)
        rows += cursor.rowcount
    return time.perf_counter() - began, rows


# --- The engine ------------------------------------------------------------------------------


def scan() -> tuple[DestructionRun, float]:
    began = time.perf_counter()
    run = run_scan(kind=DestructionRun.Kind.PERIODIC, reason="bench")
    seconds = time.perf_counter() - began
    # As a controller that opted into automatic execution: no approval step to wait for.
    DestructionRun.objects.filter(pk=run.pk).update(
        status=DestructionRun.Status.APPROVED,
        approved_at=timezone.now(),
        executed_automatically=True,
    )
    return run, seconds


def execute_in_worker(run: DestructionRun) -> Run:
    """run_execute in a process of its own, as a worker runs it (runtime role)."""
    connections.close_all()
    env = {**os.environ, "PORTAL_DB_ROLE": "runtime"}
    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "execute_run.py"),
            connection.schema_name,
            str(run.pk),
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode:
        raise RuntimeError(f"the engine failed:\n{completed.stderr[-4000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return Run(items=result["items"], seconds=result["seconds"], peak_mb=result["peak_mb"])


def run(subjects: int, *, copy_schema: str) -> Figures:
    """Load the controller and its copy, then the scan, the engine and the plain DELETE."""
    figures = Figures(subjects)
    figures.load_seconds = load(subjects, copy_schema=copy_schema)
    rules_create()
    with schema_context(copy_schema):
        rules_create()
    figures.expired = expired_count()
    with schema_context(copy_schema):
        figures.delete_seconds, figures.delete_rows = plain_delete()
    destruction_run, figures.scan_seconds = scan()
    figures.engine = execute_in_worker(destruction_run)
    left = _left()
    with schema_context(copy_schema):
        left_in_copy = _left()
    if left != left_in_copy or figures.engine.items != figures.expired:
        raise RuntimeError(
            f"the engine left {left} (items, history rows), the plain DELETE {left_in_copy}; "
            f"it ended {figures.engine.items:,} of {figures.expired:,} expired items"
        )
    return figures


def _left() -> tuple[int, int]:
    """Items and item history rows left: the engine and the DELETE must agree."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM subjects_personaldataitem),"
            " (SELECT count(*) FROM subjects_historicalpersonaldataitem)"
        )
        return cursor.fetchone()


def small_run(subjects: int) -> Run:
    load(subjects, copy_schema=None)
    rules_create()
    destruction_run, _ = scan()
    return execute_in_worker(destruction_run)


def main(args: argparse.Namespace, *, out_dir: Path, controller: Callable) -> Figures:
    subjects = args.destroy_subjects
    print(
        f"destruction: {subjects:,} subjects × {ITEMS_PER_SUBJECT} items, "
        f"{ITEMS_PER_SUBJECT - 1} of them expired",
        flush=True,
    )
    ours = connection.tenant
    with controller("benchcopy") as copy, tenant_context(ours):
        figures = run(subjects, copy_schema=copy.schema_name)
    with controller("benchsmall"):
        figures.small = small_run(max(10, subjects // 10))
    return figures
