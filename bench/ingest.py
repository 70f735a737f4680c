"""Register ingest benchmark: the bulk path against a raw COPY of the same rows.

The bulk path is what POST /api/v1/subjects/bulk/ runs after parsing JSON:
records_validate() then register_ingest() per batch of subjects — validation,
blind indexes, a data key per subject, AES-GCM for every value, COPY into the
register and its history tables, one audit entry per batch. The baseline loads
the same rows, in plaintext, into two bare tables with COPY: the fastest way a
DBA could put the data in. Data generation is done before either clock starts.
"""

import random
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django_tenants.utils import tenant_context

from subjects import selectors, services
from subjects.crypto import keyring

STREETS = [
    "Atatürk Cad.",
    "Cumhuriyet Sok.",
    "İstiklal Cad.",
    "Bağdat Cad.",
    "Gazi Bulvarı",
    "Çınar Sok.",
]
DISTRICTS = [
    "Kadıköy/İstanbul",
    "Çankaya/Ankara",
    "Karşıyaka/İzmir",
    "Nilüfer/Bursa",
    "Muratpaşa/Antalya",
]
FIRST = [
    "Ayşe",
    "Mehmet",
    "Fatma",
    "Mustafa",
    "Emine",
    "Ahmet",
    "Hatice",
    "Ali",
    "Zeynep",
    "Hüseyin",
    "Elif",
    "İbrahim",
]
LAST = [
    "Yılmaz",
    "Kaya",
    "Demir",
    "Şahin",
    "Çelik",
    "Yıldız",
    "Öztürk",
    "Aydın",
    "Özdemir",
    "Arslan",
    "Doğan",
    "Kılıç",
]
ITEM_KINDS = [
    ("contact", "customer_service", "art5_2_c"),
    ("customer_transaction", "contract", "art5_2_c"),
    ("marketing", "marketing", "art5_1"),
    ("location", "customer_service", "art5_2_f"),
    ("identity", "contract", "art5_2_c"),
]


def tckn(seed: int) -> str:
    """A checksum-valid TCKN derived from a number (first digit non-zero)."""
    base = f"{100_000_000 + seed % 900_000_000:09d}"
    d = [int(c) for c in base]
    tenth = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    ten = base + str(tenth)
    return ten + str(sum(int(c) for c in ten) % 10)


def make_records(subjects: int, items_per_subject: int, *, seed: int = 6698) -> list[dict]:
    rng = random.Random(seed)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    records = []
    for n in range(subjects):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        items = []
        for k in range(items_per_subject):
            category, purpose, basis = ITEM_KINDS[k % len(ITEM_KINDS)]
            value = (
                f"{rng.choice(STREETS)} No:{rng.randint(1, 200)} {rng.choice(DISTRICTS)} #{n}-{k}"
            )
            items.append(
                {
                    "category": category,
                    "purpose": purpose,
                    "legal_basis": basis,
                    "source_system": "crm",
                    "value": value,
                    "collected_at": start + timedelta(minutes=rng.randint(0, 900_000)),
                }
            )
        records.append(
            {
                "group": "customer",
                "name": f"{first} {last}",
                "identifiers": {
                    "tckn": tckn(n * 7919 + 13),
                    "email": f"kisi{n}@ornek.com.tr",
                    "customer_no": f"M-{n:07d}",
                },
                "items": items,
            }
        )
    return records


@dataclass
class Figures:
    subjects: int
    items: int
    clients: int
    ours_seconds: float
    copy_seconds: float
    lookup_ms: list[float]
    lookup_any_ms: list[float]

    @property
    def ours_rate(self) -> float:
        return self.items / self.ours_seconds

    @property
    def copy_rate(self) -> float:
        return self.items / self.copy_seconds

    @property
    def ratio(self) -> float:
        return self.ours_rate / self.copy_rate

    def as_dict(self) -> dict:
        return {
            "subjects": self.subjects,
            "items": self.items,
            "clients": self.clients,
            "ours_seconds": round(self.ours_seconds, 2),
            "ours_items_per_s": round(self.ours_rate),
            "copy_seconds": round(self.copy_seconds, 2),
            "copy_items_per_s": round(self.copy_rate),
            "ratio": round(self.ratio, 3),
            "lookup_tckn_median_ms": round(statistics.median(self.lookup_ms), 3),
            "lookup_tckn_p95_ms": round(percentile(self.lookup_ms, 95), 3),
            "lookup_any_median_ms": round(statistics.median(self.lookup_any_ms), 3),
        }


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def ingest_ours(records: list[dict], batch: int, progress=None) -> float:
    """The measured bulk path, one transaction per batch as the API does it."""
    elapsed = 0.0
    for start in range(0, len(records), batch):
        chunk = records[start : start + batch]
        began = time.perf_counter()
        services.register_ingest(
            inputs=services.records_validate(chunk), actor_label="bench", source="bench"
        )
        elapsed += time.perf_counter() - began
        if progress:
            progress(start + len(chunk), elapsed)
    return elapsed


def ingest_ours_concurrently(records: list[dict], batch: int, clients: int) -> float:
    """The same batches sent by several clients at once, as API workers would serve them."""
    tenant = connection.tenant
    batches = [records[start : start + batch] for start in range(0, len(records), batch)]

    def client(share: list[list[dict]]) -> None:
        try:
            with tenant_context(tenant):
                for chunk in share:
                    services.register_ingest(
                        inputs=services.records_validate(chunk), actor_label="bench", source="bench"
                    )
        finally:
            connection.close()

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, [batches[i::clients] for i in range(clients)]))
    return time.perf_counter() - began


BASELINE_DDL = """
DROP TABLE IF EXISTS bench_raw_item, bench_raw_subject;
CREATE TABLE bench_raw_subject (id bigint PRIMARY KEY, uuid uuid, name text, tckn text, email text, customer_no text);
CREATE TABLE bench_raw_item (id bigint PRIMARY KEY, subject_id bigint, category text, purpose text,
    legal_basis text, source_system text, value text, collected_at timestamptz);
"""


def ingest_baseline(records: list[dict], batch: int) -> float:
    """The same rows in plaintext, COPYed batch by batch into bare tables."""
    with connection.cursor() as cursor:
        cursor.execute(BASELINE_DDL)
    elapsed, item_id = 0.0, 0
    for start in range(0, len(records), batch):
        chunk = records[start : start + batch]
        began = time.perf_counter()
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy("COPY bench_raw_subject FROM STDIN") as copy:
                for offset, record in enumerate(chunk):
                    ids = record["identifiers"]
                    copy.write_row(
                        [
                            start + offset,
                            uuid.uuid4(),
                            record["name"],
                            ids["tckn"],
                            ids["email"],
                            ids["customer_no"],
                        ]
                    )
            with raw.copy("COPY bench_raw_item FROM STDIN") as copy:
                for offset, record in enumerate(chunk):
                    for item in record["items"]:
                        item_id += 1
                        copy.write_row(
                            [
                                item_id,
                                start + offset,
                                item["category"],
                                item["purpose"],
                                item["legal_basis"],
                                item["source_system"],
                                item["value"],
                                item["collected_at"],
                            ]
                        )
        elapsed += time.perf_counter() - began
    return elapsed


def measure_lookups(
    records: list[dict], samples: int, *, seed: int = 7
) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    keyring()
    picks = [rng.choice(records)["identifiers"]["tckn"] for _ in range(samples)]
    selectors.subject_find(value=picks[0], kind="tckn")  # warm the connection
    by_kind, any_kind = [], []
    for value in picks:
        began = time.perf_counter()
        found = selectors.subject_find(value=value, kind="tckn")
        by_kind.append((time.perf_counter() - began) * 1000)
        assert found is not None, value
        began = time.perf_counter()
        selectors.subject_find(value=value)
        any_kind.append((time.perf_counter() - began) * 1000)
    return by_kind, any_kind


def run(
    *,
    subjects: int,
    items_per_subject: int,
    batch: int,
    clients: int = 1,
    lookups: int = 200,
    progress=None,
) -> Figures:
    """Ingest into the current schema (ours), then the baseline tables, then time look-ups."""
    records = make_records(subjects, items_per_subject)
    if clients > 1:
        ours = ingest_ours_concurrently(records, batch, clients)
    else:
        ours = ingest_ours(records, batch, progress)
    baseline = ingest_baseline(records, batch)
    by_kind, any_kind = measure_lookups(records, lookups)
    return Figures(
        subjects, subjects * items_per_subject, clients, ours, baseline, by_kind, any_kind
    )


def report(figures: Figures) -> str:
    data = figures.as_dict()
    verdict_ingest = "PASS" if figures.ratio >= 0.25 else "FAIL"
    verdict_lookup = "PASS" if data["lookup_tckn_median_ms"] < 5 else "FAIL"
    return "\n".join(
        [
            f"Register ingest: {figures.subjects:,} subjects, {figures.items:,} items",
            f"{'':32}{'seconds':>10}{'items/s':>12}",
            f"{f'bulk path, {figures.clients} client(s)':32}{figures.ours_seconds:>10.1f}{figures.ours_rate:>12,.0f}",
            f"{'raw COPY baseline (plaintext)':32}{figures.copy_seconds:>10.1f}{figures.copy_rate:>12,.0f}",
            f"ratio {figures.ratio:.0%} of COPY (goal >= 25%): {verdict_ingest}",
            f"look-up by TCKN: median {data['lookup_tckn_median_ms']:.2f} ms, p95 {data['lookup_tckn_p95_ms']:.2f} ms "
            f"(goal < 5 ms): {verdict_lookup}",
            f"look-up by value of any kind: median {data['lookup_any_median_ms']:.2f} ms",
        ]
    )
