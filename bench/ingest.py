"""Register ingest benchmark: the bulk path against the database doing the same work alone.

The bulk path is what POST /api/v1/subjects/bulk/ runs after parsing JSON:
records_validate(records=) then register_ingest() per batch of subjects — validation,
blind indexes, a data key per subject (committed to the key database first),
AES-GCM for every value bound to its row, COPY into the register, its creation
history copied server-side, one audit entry per batch, one transaction.

Baselines, measured in the same run:
- the database floor: the rows the bulk path stored, already encrypted, copied with
  binary COPY into a second controller's schema — the same tables, indexes and
  reference triggers — with the same history rows and key rows, a transaction per
  batch, alternating with the bulk path batch by batch. What is left between the
  two is Python's own work: validation, keys, encryption, building rows;
- bare COPY: the same data in plaintext into two tables with primary keys only, one
  stream per table — the fastest load a DBA could do, kept for comparison.
Generating records and extracting rows is timed apart and counted in no figure.
Then subjects are looked up by TCKN through the blind index, and more batches go
through the real HTTP endpoint (in-process test client), alternating with the same
number through the service path, to show what JSON, DRF and middleware add.
With --clients N, N separate processes run the bulk path, then the floor, at once.
"""

import argparse
import cProfile
import io
import json
import math
import multiprocessing
import pstats
import random
import resource
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from accounts.models import Role, User
from bench import data
from subjects import selectors, services, validation
from subjects.api.auth import api_token_create
from subjects.bulk import history_record
from subjects.crypto import KEYS_DATABASE, keyring
from subjects.models import (
    ApiToken,
    DataSubject,
    PersonalDataItem,
    SubjectDataKey,
    SubjectIdentifier,
)

NAME = "ingest"
FLOOR_GOAL = 0.50  # the bulk path at least half as fast as the database doing the same work
HTTP_GOAL = 0.70  # the HTTP endpoint at least 70 % of the service path
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
# What the floor copies: every stored column of the register's rows, key rows included.
STORED = (
    (DataSubject, services.SUBJECT_COLUMNS),
    (SubjectIdentifier, services.IDENTIFIER_COLUMNS),
    (PersonalDataItem, services.ITEM_COLUMNS),
)
KEY_COLUMNS = ("schema_name", "subject_uuid", "wrapped_key", "created_at")

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
        help="concurrent bulk clients, each a separate process, and as many concurrent "
        "floor copies (default 1)",
    )
    group.add_argument("--lookups", type=_count(1), default=200, help="TCKN look-ups timed (200)")
    group.add_argument(
        "--http-batches",
        type=_count(0),
        default=5,
        help="batches sent over HTTP, alternating with as many through the service path (5)",
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
    """Batches over HTTP and as many through the service path, alternating."""

    batches: int
    items: int  # per side
    http_seconds: float
    service_seconds: float
    body_mb: float

    @property
    def rate(self) -> float:
        return self.items / self.http_seconds

    @property
    def service_rate(self) -> float:
        return self.items / self.service_seconds

    @property
    def ratio(self) -> float:
        return self.rate / self.service_rate

    @property
    def ok(self) -> bool:
        return self.ratio >= HTTP_GOAL


@dataclass
class Figures:
    subjects: int
    items_per_subject: int
    batch: int
    clients: int
    generate_seconds: float = 0.0
    validate_seconds: float | None = 0.0  # None with several clients: not separable
    ours_seconds: float = 0.0
    floor_seconds: float = 0.0  # the same encrypted rows copied into the same tables
    copy_seconds: float = 0.0  # bare plaintext COPY, one stream per table
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
    def floor_rate(self) -> float:
        return self.rate(self.floor_seconds)

    @property
    def copy_rate(self) -> float:
        return self.rate(self.copy_seconds)

    @property
    def ratio(self) -> float:
        return self.ours_rate / self.floor_rate if self.floor_rate else 0.0

    @property
    def ratio_bare(self) -> float:
        return self.ours_rate / self.copy_rate if self.copy_rate else 0.0

    @property
    def ingest_ok(self) -> bool:
        return self.ratio >= FLOOR_GOAL

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
        http = self.http
        return {
            "subjects": self.done,
            "items": self.items,
            "batch": self.batch,
            "clients": self.clients,
            "ours_seconds": round(self.ours_seconds, 2),
            "ours_validate_seconds": None if validate is None else round(validate, 2),
            "ours_items_per_s": round(self.ours_rate),
            "ours_subjects_per_s": round(self.ours_rate / self.items_per_subject),
            "floor_seconds": round(self.floor_seconds, 2),
            "floor_items_per_s": round(self.floor_rate),
            "copy_seconds": round(self.copy_seconds, 2),
            "copy_items_per_s": round(self.copy_rate),
            "ratio": round(self.ratio, 4),
            "ratio_to_bare_copy": round(self.ratio_bare, 4),
            "ratio_goal": FLOOR_GOAL,
            "ingest_goal_met": self.ingest_ok,
            **{key: round(value, 3) for key, value in ms.items()},
            "lookup_samples": len(self.lookup_ms),
            "lookup_goal_ms": LOOKUP_GOAL_MS,
            "lookup_goal_met": self.lookup_ok,
            "http": None
            if http is None
            else {
                "batches": http.batches,
                "items": http.items,
                "seconds": round(http.http_seconds, 2),
                "items_per_s": round(http.rate),
                "service_items_per_s": round(http.service_rate),
                "ratio": round(http.ratio, 4),
                "ratio_goal": HTTP_GOAL,
                "goal_met": http.ok,
                "body_mb_per_batch": round(http.body_mb, 2),
            },
            "generate_seconds": round(self.generate_seconds, 2),
            "rss_after_bulk_mb": round(self.rss_after_bulk_mb),
            "profiled": self.profiled,
        }

    def report(self) -> str:
        def line(label: str, seconds: float, items: int) -> str:
            rate = items / seconds
            return (
                f"{label:<58}{seconds:>9.2f}{rate:>11,.0f}{rate / self.items_per_subject:>11,.0f}"
            )

        d = self.as_dict()
        lines = [
            f"Register ingest: {self.done:,} subjects × {self.items_per_subject} items = "
            f"{self.items:,} items, batches of {self.batch:,} subjects, {self.clients} client(s)",
            f"{'':<58}{'seconds':>9}{'items/s':>11}{'subj./s':>11}",
            line("bulk path: records_validate + register_ingest", self.ours_seconds, self.items),
        ]
        if self.validate_seconds is not None:
            lines.append(f"{'  of which records_validate':<58}{self.validate_seconds:>9.2f}")
        lines += [
            line(
                "database floor: the stored rows copied into the same tables",
                self.floor_seconds,
                self.items,
            ),
            line(
                "bare COPY: plaintext, primary keys only, one stream", self.copy_seconds, self.items
            ),
            "",
            f"bulk path / database floor: {self.ratio:.1%} (goal ≥ {FLOOR_GOAL:.0%}) "
            f"{'PASS' if self.ingest_ok else 'FAIL'}; {self.ratio_bare:.1%} of bare COPY",
        ]
        if self.http is not None:
            http = self.http
            lines += [
                f"HTTP POST bulk/ ({http.batches} batches, test client): {http.rate:,.0f} items/s; "
                f"service path on as many batches, alternating: {http.service_rate:,.0f} items/s",
                f"HTTP / service path: {http.ratio:.1%} (goal ≥ {HTTP_GOAL:.0%}) "
                f"{'PASS' if http.ok else 'FAIL'}",
            ]
        lines += [
            f"look-up by TCKN ({len(self.lookup_ms)} subjects): median "
            f"{d['lookup_tckn_median_ms']:.2f} ms, p95 {d['lookup_tckn_p95_ms']:.2f} ms "
            f"(goal p95 < {LOOKUP_GOAL_MS:g} ms) {'PASS' if self.lookup_ok else 'FAIL'}",
            f"look-up of the same values without kind: median "
            f"{d['lookup_any_median_ms']:.2f} ms, p95 {d['lookup_any_p95_ms']:.2f} ms",
            f"data generation and row extraction, counted in none: {self.generate_seconds:.1f} s; "
            f"peak memory after the bulk path {self.rss_after_bulk_mb:,.0f} MB",
        ]
        if self.profiled:
            lines.append("(bulk path run under cProfile: its time is inflated)")
        return "\n".join(lines)


# --- The bulk path --------------------------------------------------------------------------


def bulk_ingest(records: list[dict]) -> tuple[float, float, list]:
    """The measured path, one transaction per batch as the API does it.

    Returns (validate s, total s, the subjects' uuids).
    """
    began = time.perf_counter()
    inputs = validation.records_validate(records=records)
    validated = time.perf_counter()
    result = services.register_ingest(inputs=inputs, actor_label="bench", source="bench")
    return validated - began, time.perf_counter() - began, result.subjects


# --- The database floor ----------------------------------------------------------------------


@dataclass
class StoredBatch:
    """One batch as the bulk path stored it, in binary COPY format, ready to load again."""

    subject_ids: list[int]
    item_ids: list[int]
    tables: list[tuple[type, tuple[str, ...], bytes]]
    keys: bytes


def _copy_out(cursor, sql: str, params: list) -> bytes:
    buffer = io.BytesIO()
    with cursor.copy(sql, params) as copy:
        for chunk in copy:
            buffer.write(chunk)
    return buffer.getvalue()


def stored_batch(subject_uuids: list, *, floor_schema: str) -> StoredBatch:
    """Read back what the bulk path stored for these subjects (untimed).

    Key rows are keyed by schema and uuid, so they are read out under the floor's schema.
    """
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT array_agg(id ORDER BY id) FROM {DataSubject._meta.db_table}"
            " WHERE uuid = ANY(%s)",
            [subject_uuids],
        )
        ids = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT array_agg(id ORDER BY id) FROM {PersonalDataItem._meta.db_table}"
            " WHERE subject_id = ANY(%s)",
            [ids],
        )
        item_ids = cursor.fetchone()[0] or []
        tables = []
        for model, columns in STORED:
            key = "id" if model is DataSubject else "subject_id"
            names = ", ".join(quote(c) for c in columns)
            sql = (
                f"COPY (SELECT {names} FROM {quote(model._meta.db_table)}"
                f" WHERE {key} = ANY(%s) ORDER BY id) TO STDOUT (FORMAT BINARY)"
            )
            tables.append((model, columns, _copy_out(cursor.cursor, sql, [ids])))
    with connections[KEYS_DATABASE].cursor() as cursor:
        sql = (
            "COPY (SELECT %s::varchar, subject_uuid, wrapped_key, created_at"
            f" FROM {SubjectDataKey._meta.db_table}"
            " WHERE schema_name = %s AND subject_uuid = ANY(%s)) TO STDOUT (FORMAT BINARY)"
        )
        keys = _copy_out(cursor.cursor, sql, [floor_schema, connection.schema_name, subject_uuids])
    return StoredBatch(ids, item_ids, tables, keys)


def floor_load(batch: StoredBatch, *, floor_schema: str) -> float:
    """The same rows into the floor controller's schema, as the bulk path writes them; seconds.

    Keys into the key database (their own transaction, as the bulk path does), then subjects,
    their history, identifiers, items and their history in one transaction, each table
    through one binary COPY; the schema's indexes and reference triggers do their work.
    """
    quote = connection.ops.quote_name
    began = time.perf_counter()
    now = timezone.now()
    key_copy = f"COPY {SubjectDataKey._meta.db_table} ({', '.join(KEY_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    with (
        connections[KEYS_DATABASE].cursor() as cursor,
        transaction.atomic(using=KEYS_DATABASE),
        cursor.cursor.copy(key_copy) as copy,
    ):
        copy.write(batch.keys)
    with schema_context(floor_schema), transaction.atomic(), connection.cursor() as cursor:
        for model, columns, stream in batch.tables:
            names = ", ".join(quote(c) for c in columns)
            with cursor.cursor.copy(
                f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.write(stream)
            if model is DataSubject:
                history_record(
                    DataSubject, batch.subject_ids, when=now, actor_id=None, reason="floor"
                )
        history_record(PersonalDataItem, batch.item_ids, when=now, actor_id=None, reason="floor")
    return time.perf_counter() - began


# --- The bare COPY --------------------------------------------------------------------------


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


def bare_copy_in_one_stream(figures: Figures) -> None:
    """Every row again in plaintext, one COPY per table (rows built untimed)."""
    baseline_create()
    subjects, items = [], []
    for first, count in _starts(figures.subjects, figures.batch):
        began = time.perf_counter()
        batch_subjects, batch_items = baseline_rows(
            data.records(first, count, figures.items_per_subject), first
        )
        subjects += batch_subjects
        items += batch_items
        figures.generate_seconds += time.perf_counter() - began
    figures.copy_seconds = baseline_copy(subjects, items)


# --- Runs ---------------------------------------------------------------------------------


def _starts(subjects: int, batch: int) -> list[tuple[int, int]]:
    return [(first, min(batch, subjects - first)) for first in range(0, subjects, batch)]


def _generate(figures: Figures, first: int, count: int) -> list[dict]:
    began = time.perf_counter()
    records = data.records(first, count, figures.items_per_subject)
    figures.generate_seconds += time.perf_counter() - began
    return records


def ingest_alternately(
    figures: Figures,
    *,
    floor_schema: str,
    profiler: cProfile.Profile | None,
    progress: Progress | None,
) -> None:
    """One client: per batch generate (untimed), bulk path, the floor for the same rows.

    Nothing is kept between batches, so the memory peak is the bulk path's own.
    """
    starts = _starts(figures.subjects, figures.batch)
    for number, (first, count) in enumerate(starts, start=1):
        records = _generate(figures, first, count)
        if profiler:
            profiler.enable()
        validate, total, uuids = bulk_ingest(records)
        if profiler:
            profiler.disable()
        figures.validate_seconds += validate
        figures.ours_seconds += total
        began = time.perf_counter()
        stored = stored_batch(uuids, floor_schema=floor_schema)
        figures.generate_seconds += time.perf_counter() - began
        figures.floor_seconds += floor_load(stored, floor_schema=floor_schema)
        figures.done += count
        if progress and (number % 10 == 0 or number == len(starts)):
            progress(figures)
    figures.rss_after_bulk_mb = rss_mb()


def _in_processes(clients: int, work: Callable[[int], list], schema: str) -> tuple[float, list]:
    """Run work(client number) in as many separate processes at once; (wall seconds, results).

    Each process prepares what it needs, waits at a barrier, then works; the clock runs from
    the barrier's release until the last process is done.
    """
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(clients + 1), context.Queue()

    def client(number: int) -> None:
        connections.close_all()  # never share the parent's connections
        with schema_context(schema):
            jobs = work(number)  # returns a list of zero-argument calls: preparation done
            barrier.wait()
            results.put([job() for job in jobs])
        connections.close_all()

    connections.close_all()
    processes = [context.Process(target=client, args=(n,)) for n in range(clients)]
    for process in processes:
        process.start()
    barrier.wait()
    began = time.perf_counter()
    collected = [results.get() for _ in processes]
    seconds = time.perf_counter() - began
    for process in processes:
        process.join()
        if process.exitcode:
            raise RuntimeError(f"a benchmark client failed with exit code {process.exitcode}")
    return seconds, [item for chunk in collected for item in chunk]


def ingest_concurrently(figures: Figures, *, floor_schema: str) -> None:
    """Several clients, each a separate process: all bulk calls at once, then all floor loads."""
    schema = connection.schema_name
    shares = [
        _starts(figures.subjects, figures.batch)[n :: figures.clients]
        for n in range(figures.clients)
    ]

    def bulk_jobs(number: int) -> list:
        batches = [
            data.records(first, count, figures.items_per_subject) for first, count in shares[number]
        ]
        return [lambda records=records: bulk_ingest(records)[2] for records in batches]

    figures.validate_seconds = None
    figures.ours_seconds, uuid_lists = _in_processes(figures.clients, bulk_jobs, schema)
    figures.done = figures.subjects
    figures.rss_after_bulk_mb = rss_mb()
    began = time.perf_counter()
    stored = [stored_batch(uuids, floor_schema=floor_schema) for uuids in uuid_lists]
    figures.generate_seconds += time.perf_counter() - began

    def floor_jobs(number: int) -> list:
        return [
            lambda batch=batch: floor_load(batch, floor_schema=floor_schema)
            for batch in stored[number :: figures.clients]
        ]

    figures.floor_seconds, _ = _in_processes(figures.clients, floor_jobs, schema)


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


def http_against_service(
    *, first: int, batches: int, batch: int, items_per_subject: int
) -> HttpFigures:
    """Batches through POST /api/v1/subjects/bulk/ (bodies pre-encoded), alternating with as
    many other batches through the service path, so both meet the same table sizes."""
    admin = User.objects.filter(role=Role.CONTROLLER_ADMIN).order_by("pk").first()
    _, raw = api_token_create(name="bench", scope=ApiToken.Scope.WRITE, created_by=admin)
    client = Client(HTTP_HOST=connection.tenant.host, HTTP_AUTHORIZATION=f"Token {raw}")
    url = reverse("api:bulk")
    http_seconds = service_seconds = 0.0
    largest = 0
    for number in range(batches):
        start = first + 2 * number * batch
        body = json.dumps(
            {"subjects": data.records(start, batch, items_per_subject)}, cls=DjangoJSONEncoder
        )
        largest = max(largest, len(body))
        if len(body) > settings.API_MAX_BODY_BYTES:
            raise ValueError(f"a batch is {len(body):,} bytes, over API_MAX_BODY_BYTES")
        began = time.perf_counter()
        response = client.post(url, body, content_type="application/json")
        http_seconds += time.perf_counter() - began
        if response.status_code != 201:
            raise AssertionError(
                f"bulk endpoint answered {response.status_code}: {response.content[:500]}"
            )
        service_seconds += bulk_ingest(data.records(start + batch, batch, items_per_subject))[1]
    return HttpFigures(
        batches, batches * batch * items_per_subject, http_seconds, service_seconds, largest / 2**20
    )


def run(
    *,
    subjects: int,
    items_per_subject: int,
    batch: int,
    floor_schema: str,
    clients: int = 1,
    lookups: int = 200,
    http_batches: int = 0,
    profiler: cProfile.Profile | None = None,
    progress: Progress | None = None,
) -> Figures:
    """Ingest into the current schema and the floor's, then bare COPY, look-ups and HTTP."""
    if not 0 < batch <= settings.API_BULK_MAX_SUBJECTS:
        raise ValueError(f"--batch must be 1 … {settings.API_BULK_MAX_SUBJECTS} (the API limit)")
    figures = Figures(subjects, items_per_subject, batch, clients, profiled=profiler is not None)
    if clients > 1:
        ingest_concurrently(figures, floor_schema=floor_schema)
    else:
        ingest_alternately(figures, floor_schema=floor_schema, profiler=profiler, progress=progress)
    bare_copy_in_one_stream(figures)
    figures.lookup_ms, figures.lookup_any_ms = lookups_time(subjects, lookups)
    if http_batches:
        figures.http = http_against_service(
            first=subjects, batches=http_batches, batch=batch, items_per_subject=items_per_subject
        )
    return figures


def _progress(figures: Figures) -> None:
    print(
        f"  {figures.done:>9,} subjects  bulk path {figures.ours_seconds:7.1f} s "
        f"({figures.ours_rate:>7,.0f} items/s)  floor {figures.floor_seconds:6.1f} s "
        f"({figures.floor_rate:>8,.0f} items/s)  untimed {figures.generate_seconds:5.1f} s",
        flush=True,
    )


def main(args: argparse.Namespace, *, out_dir: Path, controller: Callable) -> Figures:
    """Run from bench/run.py inside a throwaway controller's schema; ``controller(slug)``
    provisions another throwaway controller (the floor's) for the run's duration."""
    profiler = cProfile.Profile() if args.profile else None
    if profiler and args.clients > 1:
        raise ValueError("--profile needs a single client")
    print(
        f"ingest: {args.subjects:,} subjects × {args.items_per_subject} items in batches of "
        f"{args.batch:,}, {args.clients} client(s)",
        flush=True,
    )
    ours = connection.tenant
    with controller("benchfloor") as floor, tenant_context(ours):
        figures = run(
            subjects=args.subjects,
            items_per_subject=args.items_per_subject,
            batch=args.batch,
            floor_schema=floor.schema_name,
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
