"""Register ingest benchmark: the bulk path against a raw COPY of the same rows.

The bulk path is what POST /api/v1/subjects/bulk/ runs after parsing JSON:
records_validate(records=) then register_ingest() per batch of subjects — validation,
blind indexes, a data key per subject, AES-GCM for every value, COPY into the
register, its creation history copied server-side, one audit entry per batch, one
transaction.

The baseline loads the same rows in plaintext into two bare tables (primary
keys only) with psycopg's binary COPY. Its headline figure is one COPY stream
per table for all rows — the fastest way a DBA would load the data; it is also
measured per batch, a transaction each, alternating with the bulk path, to show
what batching alone costs. Generating records and rows is timed apart and
counted in neither figure. Then subjects are looked up by TCKN through the
blind index, and a few more batches go through the real HTTP endpoint
(in-process test client) to show what JSON, DRF and middleware add.
"""

import argparse
import cProfile
import json
import math
import pstats
import random
import resource
import statistics
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from bench import data
from subjects import selectors, services, validation
from subjects.api.auth import api_token_create
from subjects.crypto import keyring
from subjects.models import ApiToken

NAME = "ingest"
RATIO_GOAL = 0.25  # the bulk path at least a quarter of raw COPY's items/s
LOOKUP_GOAL_MS = 5.0  # p95 of one look-up by TCKN

SUBJECT_TABLE = "bench_raw_subject"
ITEM_TABLE = "bench_raw_item"
SUBJECT_COLUMNS = {
    "id": "int8",
    "uuid": "uuid",
    "subject_group": "text",
    "name": "text",
    "tckn": "text",
    "email": "text",
    "phone": "text",
    "customer_no": "text",
}
ITEM_COLUMNS = {
    "id": "int8",
    "subject_id": "int8",
    "category": "text",
    "purpose": "text",
    "legal_basis": "text",
    "source_system": "text",
    "value": "text",
    "collected_at": "timestamptz",
}

Progress = Callable[["Figures"], None]


def _count(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{value} is not within {low} … {high or '∞'}")
        return value

    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    limit = settings.API_BULK_MAX_SUBJECTS
    group = parser.add_argument_group("ingest")
    group.add_argument("--subjects", type=_count(1), default=100_000, help="default 100000")
    group.add_argument("--items-per-subject", type=_count(1), default=10, help="default 10")
    group.add_argument(
        "--batch",
        type=_count(1, limit),
        default=limit,
        help=f"subjects per bulk call (default and API limit: API_BULK_MAX_SUBJECTS = {limit})",
    )
    group.add_argument(
        "--clients",
        type=_count(1),
        default=1,
        help="concurrent bulk clients, and as many concurrent per-batch COPYs "
        "(default 1; more than 1 generates every record before the clocks start)",
    )
    group.add_argument("--lookups", type=_count(1), default=200, help="TCKN look-ups timed (200)")
    group.add_argument(
        "--http-batches", type=_count(0), default=3, help="more batches sent over HTTP (3)"
    )
    group.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the bulk path (inflates its time), print where it goes (one client)",
    )


# --- Figures ----------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * pct / 100) - 1)]


def rss_mb() -> float:
    """Peak resident memory of the process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class HttpFigures:
    batches: int
    subjects: int
    items: int
    seconds: float
    body_mb: float

    @property
    def rate(self) -> float:
        return self.items / self.seconds


@dataclass
class Figures:
    subjects: int
    items_per_subject: int
    batch: int
    clients: int
    generate_seconds: float = 0.0
    validate_seconds: float | None = 0.0  # None with several clients: not separable
    ours_seconds: float = 0.0
    copy_seconds: float = 0.0  # one COPY stream per table: the headline baseline
    copy_batched_seconds: float = 0.0  # COPY per batch, one transaction each, like ours
    lookup_ms: list[float] = field(default_factory=list)
    lookup_any_ms: list[float] = field(default_factory=list)
    http: HttpFigures | None = None
    rss_after_bulk_mb: float = 0.0
    profiled: bool = False
    done: int = 0  # subjects through the bulk path so far

    @property
    def items(self) -> int:
        return self.done * self.items_per_subject

    def rate(self, seconds: float) -> float:
        return self.items / seconds if seconds else 0.0

    @property
    def ours_rate(self) -> float:
        return self.rate(self.ours_seconds)

    @property
    def copy_rate(self) -> float:
        return self.rate(self.copy_seconds)

    @property
    def ratio(self) -> float:
        return self.ours_rate / self.copy_rate if self.copy_rate else 0.0

    @property
    def ratio_batched(self) -> float:
        batched = self.rate(self.copy_batched_seconds)
        return self.ours_rate / batched if batched else 0.0

    @property
    def ingest_ok(self) -> bool:
        return self.ratio >= RATIO_GOAL

    @property
    def lookup_ok(self) -> bool:
        return percentile(self.lookup_ms, 95) < LOOKUP_GOAL_MS

    def as_dict(self) -> dict:
        ms = {
            "lookup_tckn_median_ms": statistics.median(self.lookup_ms),
            "lookup_tckn_p95_ms": percentile(self.lookup_ms, 95),
            "lookup_any_median_ms": statistics.median(self.lookup_any_ms),
            "lookup_any_p95_ms": percentile(self.lookup_any_ms, 95),
        }
        validate = self.validate_seconds
        return {
            "subjects": self.done,
            "items": self.items,
            "batch": self.batch,
            "clients": self.clients,
            "ours_seconds": round(self.ours_seconds, 2),
            "ours_validate_seconds": None if validate is None else round(validate, 2),
            "ours_items_per_s": round(self.ours_rate),
            "ours_subjects_per_s": round(self.ours_rate / self.items_per_subject),
            "copy_seconds": round(self.copy_seconds, 2),
            "copy_items_per_s": round(self.copy_rate),
            "copy_batched_seconds": round(self.copy_batched_seconds, 2),
            "copy_batched_items_per_s": round(self.rate(self.copy_batched_seconds)),
            "ratio": round(self.ratio, 4),
            "ratio_to_batched_copy": round(self.ratio_batched, 4),
            "ratio_goal": RATIO_GOAL,
            "ingest_goal_met": self.ingest_ok,
            **{key: round(value, 3) for key, value in ms.items()},
            "lookup_samples": len(self.lookup_ms),
            "lookup_goal_ms": LOOKUP_GOAL_MS,
            "lookup_goal_met": self.lookup_ok,
            "http": None
            if self.http is None
            else {
                "batches": self.http.batches,
                "items": self.http.items,
                "seconds": round(self.http.seconds, 2),
                "items_per_s": round(self.http.rate),
                "body_mb_per_batch": round(self.http.body_mb, 2),
            },
            "generate_seconds": round(self.generate_seconds, 2),
            "rss_after_bulk_mb": round(self.rss_after_bulk_mb),
            "profiled": self.profiled,
        }

    def report(self) -> str:
        def line(label: str, seconds: float, items: int) -> str:
            rate = items / seconds
            return (
                f"{label:<50}{seconds:>9.2f}{rate:>11,.0f}{rate / self.items_per_subject:>11,.0f}"
            )

        d = self.as_dict()
        lines = [
            f"Register ingest: {self.done:,} subjects × {self.items_per_subject} items = "
            f"{self.items:,} items, batches of {self.batch:,} subjects, {self.clients} client(s)",
            f"{'':<50}{'seconds':>9}{'items/s':>11}{'subj./s':>11}",
            line("bulk path: records_validate + register_ingest", self.ours_seconds, self.items),
        ]
        if self.validate_seconds is not None:
            lines.append(f"{'  of which records_validate':<50}{self.validate_seconds:>9.2f}")
        if self.http is not None:
            lines.append(
                line(
                    f"  HTTP POST bulk/, {self.http.batches} more batch(es), test client",
                    self.http.seconds,
                    self.http.items,
                )
            )
        lines += [
            line("raw COPY, plaintext, one stream per table", self.copy_seconds, self.items),
            line("  same, per batch, a transaction each", self.copy_batched_seconds, self.items),
            "",
            f"bulk path / raw COPY: {self.ratio:.1%} (goal ≥ {RATIO_GOAL:.0%}) "
            f"{'PASS' if self.ingest_ok else 'FAIL'}; "
            f"{self.ratio_batched:.1%} of the per-batch COPY",
            f"look-up by TCKN ({len(self.lookup_ms)} subjects): median "
            f"{d['lookup_tckn_median_ms']:.2f} ms, p95 {d['lookup_tckn_p95_ms']:.2f} ms "
            f"(goal p95 < {LOOKUP_GOAL_MS:g} ms) {'PASS' if self.lookup_ok else 'FAIL'}",
            f"look-up of the same values without kind: median "
            f"{d['lookup_any_median_ms']:.2f} ms, p95 {d['lookup_any_p95_ms']:.2f} ms",
            f"data generation, counted in neither: {self.generate_seconds:.1f} s; "
            f"peak memory after the bulk path {self.rss_after_bulk_mb:,.0f} MB",
        ]
        if self.profiled:
            lines.append("(bulk path run under cProfile: its time is inflated)")
        return "\n".join(lines)


# --- The two ways in ----------------------------------------------------------------------


def bulk_ingest(records: list[dict]) -> tuple[float, float]:
    """The measured path, one transaction per batch as the API does it: (validate s, total s)."""
    began = time.perf_counter()
    inputs = validation.records_validate(records=records)
    validated = time.perf_counter()
    services.register_ingest(inputs=inputs, actor_label="bench", source="bench")
    return validated - began, time.perf_counter() - began


def _table(name: str) -> str:
    return f"{connection.ops.quote_name(connection.schema_name)}.{connection.ops.quote_name(name)}"


def baseline_create() -> None:
    """Bare plaintext tables in the current schema: no index but the primary key."""

    def ddl(name: str, columns: dict[str, str]) -> str:
        body = ", ".join(f"{column} {kind}" for column, kind in columns.items())
        return f"CREATE TABLE {_table(name)} ({body}, PRIMARY KEY (id))"

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_table(ITEM_TABLE)}, {_table(SUBJECT_TABLE)}")
        cursor.execute(ddl(SUBJECT_TABLE, SUBJECT_COLUMNS))
        cursor.execute(ddl(ITEM_TABLE, ITEM_COLUMNS))


def baseline_empty() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {_table(ITEM_TABLE)}, {_table(SUBJECT_TABLE)}")


def baseline_rows(records: list[dict], first: int) -> tuple[list[tuple], list[tuple]]:
    """The same data as plain rows, ready before the clock starts (a DBA's load file)."""
    subjects, items = [], []
    for n, record in enumerate(records, start=first):
        ids = record["identifiers"]
        subjects.append(
            (
                n,
                uuid.uuid4(),
                record["group"],
                record["name"],
                ids["tckn"],
                ids["email"],
                ids["phone"],
                ids["customer_no"],
            )
        )
        per_subject = len(record["items"])
        for k, item in enumerate(record["items"]):
            items.append(
                (
                    n * per_subject + k,
                    n,
                    item["category"],
                    item["purpose"],
                    item["legal_basis"],
                    item["source_system"],
                    item["value"],
                    item["collected_at"],
                )
            )
    return subjects, items


def baseline_copy(subjects: list[tuple], items: list[tuple]) -> float:
    """Binary COPY of the rows, one stream per table, in one transaction; seconds.

    Binary COPY through psycopg was the fastest way measured (text format was ~20 %
    slower), so the baseline is the strongest a DBA would reasonably get.
    """
    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table, columns, rows in (
            (SUBJECT_TABLE, SUBJECT_COLUMNS, subjects),
            (ITEM_TABLE, ITEM_COLUMNS, items),
        ):
            names = ", ".join(columns)
            with cursor.cursor.copy(
                f"COPY {_table(table)} ({names}) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(list(columns.values()))
                for row in rows:
                    copy.write_row(row)
    return time.perf_counter() - began


# --- Runs ---------------------------------------------------------------------------------


def _starts(subjects: int, batch: int) -> list[tuple[int, int]]:
    return [(first, min(batch, subjects - first)) for first in range(0, subjects, batch)]


def _generate(figures: Figures, first: int, count: int) -> tuple[list[dict], tuple]:
    began = time.perf_counter()
    records = data.records(first, count, figures.items_per_subject)
    rows = baseline_rows(records, first)
    figures.generate_seconds += time.perf_counter() - began
    return records, rows


def copy_in_one_stream(figures: Figures, batches: list[tuple] | None = None) -> None:
    """The headline baseline: every row again, one COPY per table (rows built untimed)."""
    baseline_empty()
    if batches is None:
        batches = [
            _generate(figures, *start)[1] for start in _starts(figures.subjects, figures.batch)
        ]
    subjects = [row for rows in batches for row in rows[0]]
    items = [row for rows in batches for row in rows[1]]
    del batches
    figures.copy_seconds = baseline_copy(subjects, items)


def ingest_alternately(
    figures: Figures, *, profiler: cProfile.Profile | None, progress: Progress | None
) -> None:
    """One client: per batch generate (untimed), bulk path, COPY of the same rows.

    Nothing is kept between batches, so the memory peak is the bulk path's own.
    """
    starts = _starts(figures.subjects, figures.batch)
    for number, (first, count) in enumerate(starts, start=1):
        records, rows = _generate(figures, first, count)
        if profiler:
            profiler.enable()
        validate, total = bulk_ingest(records)
        if profiler:
            profiler.disable()
        figures.validate_seconds += validate
        figures.ours_seconds += total
        figures.copy_batched_seconds += baseline_copy(*rows)
        figures.done += count
        if progress and (number % 10 == 0 or number == len(starts)):
            progress(figures)
    figures.rss_after_bulk_mb = rss_mb()
    copy_in_one_stream(figures)


def ingest_concurrently(figures: Figures) -> None:
    """Several clients: every batch generated first, then all bulk calls, then the COPYs."""
    tenant = connection.tenant
    batches = [_generate(figures, *start) for start in _starts(figures.subjects, figures.batch)]

    def in_clients(work: Callable[[Any], object], jobs: list) -> float:
        def client(share: list) -> None:
            try:
                with tenant_context(tenant):
                    for job in share:
                        work(job)
            finally:
                connection.close()

        shares = [jobs[i :: figures.clients] for i in range(figures.clients)]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=figures.clients) as pool:
            list(pool.map(client, shares))
        return time.perf_counter() - started

    figures.validate_seconds = None
    figures.ours_seconds = in_clients(lambda job: bulk_ingest(job[0]), batches)
    figures.done = figures.subjects
    figures.rss_after_bulk_mb = rss_mb()
    figures.copy_batched_seconds = in_clients(lambda job: baseline_copy(*job[1]), batches)
    copy_in_one_stream(figures, [rows for _records, rows in batches])


def lookups_time(subjects: int, samples: int, *, seed: int = 7) -> tuple[list[float], list[float]]:
    """Milliseconds per subject_matches of random existing TCKNs: with kind, and without."""
    rng = random.Random(seed)
    values = [data.tckn(rng.randrange(subjects)) for _ in range(samples)]
    keyring()
    selectors.subject_matches(value=values[0], kind="tckn")  # connection and keyring warm
    by_kind, any_kind = [], []
    for value in values:
        began = time.perf_counter()
        found = selectors.subject_matches(value=value, kind="tckn")
        by_kind.append((time.perf_counter() - began) * 1000)
        if not found:
            raise AssertionError(f"subject with TCKN {value} not found")
        began = time.perf_counter()
        selectors.subject_matches(value=value)
        any_kind.append((time.perf_counter() - began) * 1000)
    return by_kind, any_kind


def http_ingest(*, first: int, batches: int, batch: int, items_per_subject: int) -> HttpFigures:
    """Extra subjects through POST /api/v1/subjects/bulk/ with a write token; bodies pre-encoded."""
    admin = User.objects.filter(role=Role.CONTROLLER_ADMIN).order_by("pk").first()
    _, raw = api_token_create(name="bench", scope=ApiToken.Scope.WRITE, created_by=admin)
    client = Client(HTTP_HOST=connection.tenant.host, HTTP_AUTHORIZATION=f"Token {raw}")
    bodies = [
        json.dumps(
            {"subjects": data.records(start, batch, items_per_subject)}, cls=DjangoJSONEncoder
        )
        for start in range(first, first + batches * batch, batch)
    ]
    largest = max(len(body) for body in bodies)
    if largest > settings.API_MAX_BODY_BYTES:
        raise ValueError(f"a batch is {largest:,} bytes, over API_MAX_BODY_BYTES")
    url, seconds = reverse("api:bulk"), 0.0
    for body in bodies:
        began = time.perf_counter()
        response = client.post(url, body, content_type="application/json")
        seconds += time.perf_counter() - began
        if response.status_code != 201:
            raise AssertionError(
                f"bulk endpoint answered {response.status_code}: {response.content[:500]}"
            )
    return HttpFigures(
        batches, batches * batch, batches * batch * items_per_subject, seconds, largest / 2**20
    )


def run(
    *,
    subjects: int,
    items_per_subject: int,
    batch: int,
    clients: int = 1,
    lookups: int = 200,
    http_batches: int = 0,
    profiler: cProfile.Profile | None = None,
    progress: Progress | None = None,
) -> Figures:
    """Ingest into the current schema both ways, then time look-ups and the HTTP endpoint."""
    if not 0 < batch <= settings.API_BULK_MAX_SUBJECTS:
        raise ValueError(f"--batch must be 1 … {settings.API_BULK_MAX_SUBJECTS} (the API limit)")
    figures = Figures(subjects, items_per_subject, batch, clients, profiled=profiler is not None)
    baseline_create()
    if clients > 1:
        ingest_concurrently(figures)
    else:
        ingest_alternately(figures, profiler=profiler, progress=progress)
    figures.lookup_ms, figures.lookup_any_ms = lookups_time(subjects, lookups)
    if http_batches:
        figures.http = http_ingest(
            first=subjects, batches=http_batches, batch=batch, items_per_subject=items_per_subject
        )
    return figures


def _progress(figures: Figures) -> None:
    print(
        f"  {figures.done:>9,} subjects  bulk path {figures.ours_seconds:7.1f} s "
        f"({figures.ours_rate:>7,.0f} items/s)  COPY per batch {figures.copy_batched_seconds:5.1f} s "
        f"({figures.rate(figures.copy_batched_seconds):>8,.0f} items/s)  "
        f"generation {figures.generate_seconds:5.1f} s",
        flush=True,
    )


def main(args: argparse.Namespace, *, out_dir: Path) -> Figures:
    """Run from bench/run.py inside a throwaway controller's schema."""
    profiler = cProfile.Profile() if args.profile else None
    if profiler and args.clients > 1:
        raise ValueError("--profile needs a single client")
    print(
        f"ingest: {args.subjects:,} subjects × {args.items_per_subject} items in batches of "
        f"{args.batch:,}, {args.clients} client(s)",
        flush=True,
    )
    figures = run(
        subjects=args.subjects,
        items_per_subject=args.items_per_subject,
        batch=args.batch,
        clients=args.clients,
        lookups=args.lookups,
        http_batches=args.http_batches,
        profiler=profiler,
        progress=_progress,
    )
    if profiler:
        path = out_dir / "ingest.prof"
        profiler.dump_stats(path)
        print(f"\nbulk path profile ({path}), by own time:")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        print("by cumulative time:")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    return figures
