"""Applications benchmark: the work queue and an application's page at 100,000 applications
in one controller, with 50 controllers present, against a trivial view of the same server.

Loading (untimed): ``--app-controllers`` − 1 more controllers are provisioned beside the
measured one (full schemas, as real controllers have: the catalogue holds every table of
each), then ``--applications`` rows are inserted into the measured one with bulk INSERTs
of 5,000. Each row's applicant and free text are sealed for real under the controller's
key, bound to that row (the list never opens them; the page opens one), so the table has
its real width. Rows are spread over 400 days of receipt, every status, channel and right,
four in five assigned to one of five officers.

Measured over real HTTP, in the same run, against one gunicorn process (one sync worker,
the runtime database role, DEBUG off) on a keep-alive connection, the page kinds in
turn so that any drift of the machine touches all alike:
- the trivial view: a logged-in view that answers "ok" (the baseline: the same
  middleware — tenant, session, second factor, ledger check — and nothing else);
- for reference, an empty page in the portal's layout (base.html): what any page costs
  before its own content;
- the queue's first page; a filtered page (a right, an officer, every status); a deep
  page (keyset cursor near the end of every status); an application's page (decrypts
  the applicant, logs the read, shows history).
p50 and p95 of each; the goal is every p95 within ``GOAL`` × the trivial view's.

The queries of each page are counted in-process (Django's test client on the same
database, CaptureQueriesContext), for pages of 50 rows at the first and deep positions,
a filter that leaves one row, and the search by identifier: the count must not change.
"""

import argparse
import contextlib
import http.client
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import import_module
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from config.kvkk import ApplicationChannel, ApplicationRight
from requests.crypto import seal_json, seal_text
from requests.models import Application, ApplicationStatus, Outcome
from requests.services import due_on, local_date

ROOT = Path(__file__).resolve().parent.parent
GOAL = 3.0  # each page's p95 within three times the trivial view's
BATCH = 5_000
OFFICERS = 5
WARMUP = 20
# Pages measured for reference, outside the goal: the baseline, and the layout alone.
REFERENCES = ("trivial view", "empty page in the layout")


def _count(low: int):
    def parse(text: str) -> int:
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is less than {low}")
        return value

    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("applications")
    group.add_argument(
        "--applications", type=_count(100), default=100_000,
        help="applications in the measured controller (default 100000)",
    )  # fmt: skip
    group.add_argument(
        "--app-controllers", type=_count(1), default=50,
        help="controllers present, the measured one included (default 50)",
    )  # fmt: skip
    group.add_argument(
        "--app-requests", type=_count(20), default=200,
        help="measured requests per page kind (default 200)",
    )  # fmt: skip


@dataclass
class Latency:
    name: str
    samples: list[float] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.samples, n=20)[18] * 1000


@dataclass
class Figures:
    applications: int
    controllers: int
    load_seconds: float = 0.0
    provision_seconds: float = 0.0
    latencies: dict[str, Latency] = field(default_factory=dict)
    queries: dict[str, int] = field(default_factory=dict)

    @property
    def baseline(self) -> Latency:
        return self.latencies["trivial view"]

    def ratio(self, name: str) -> float:
        return self.latencies[name].p95 / self.baseline.p95

    @property
    def ok(self) -> bool:
        pages = [name for name in self.latencies if name not in REFERENCES]
        return all(self.ratio(name) <= GOAL for name in pages) and self.queries_constant

    @property
    def queries_constant(self) -> bool:
        """The queue's pages cost the same queries at any depth, filter and row count."""
        return len({n for name, n in self.queries.items() if name.startswith("queue")}) == 1

    def report(self) -> str:
        lines = [
            f"applications: {self.applications:,} in one controller, {self.controllers} "
            f"controllers present (provisioned in {self.provision_seconds:,.0f} s, rows loaded "
            f"untimed in {self.load_seconds:,.0f} s); "
            f"{len(self.baseline.samples)} requests per page over HTTP",
            f"  {'page':<34} {'p50 ms':>8} {'p95 ms':>8} {'p95 / trivial':>14}",
        ]
        for name, latency in self.latencies.items():
            ratio = latency.p95 / self.baseline.p95
            lines.append(f"  {name:<34} {latency.p50:8.1f} {latency.p95:8.1f} {ratio:13.2f}×")
        lines.append(f"  goal: every p95 ≤ {GOAL:.0f}× the trivial view's")
        lines.append("  queries per request (in-process, CaptureQueriesContext):")
        for name, count in self.queries.items():
            lines.append(f"    {name:<44} {count:3d}")
        lines.append(
            f"  queue pages' query count constant: {'yes' if self.queries_constant else 'NO'}; "
            f"goal {'met' if self.ok else 'NOT met'}"
        )
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {
            "applications": self.applications,
            "controllers": self.controllers,
            "load_seconds": round(self.load_seconds, 1),
            "latency_ms": {
                name: {
                    "p50": round(lat.p50, 2),
                    "p95": round(lat.p95, 2),
                    "p95_ratio": round(lat.p95 / self.baseline.p95, 2),
                }
                for name, lat in self.latencies.items()
            },
            "queries": self.queries,
            "goal": GOAL,
            "ok": self.ok,
        }


# --- Loading (untimed) ---------------------------------------------------------------------

_STATUSES = [
    ApplicationStatus.RECEIVED, ApplicationStatus.IDENTITY_CHECK, ApplicationStatus.IN_PROGRESS,
    ApplicationStatus.IN_PROGRESS, ApplicationStatus.ANSWERED, ApplicationStatus.CLOSED,
    ApplicationStatus.CLOSED, ApplicationStatus.SPAM,
]  # fmt: skip
_CHANNELS = list(ApplicationChannel.values)
_RIGHTS = list(ApplicationRight.values)


def _row(number: int, rng: random.Random, officers: list[User], now) -> Application:
    received = now - timedelta(days=rng.uniform(0, 400))
    status = rng.choice(_STATUSES)
    finished = status in (ApplicationStatus.ANSWERED, ApplicationStatus.CLOSED)
    app = Application(
        uuid=uuid.uuid4(),
        reference=f"BSV-{local_date(received).year}-{number:06d}",
        channel=rng.choice(_CHANNELS),
        received_at=received,
        due_on=due_on(received),
        rights=sorted(rng.sample(_RIGHTS, rng.randint(1, 3)), key=_RIGHTS.index),
        status=status,
        identity_index=secrets.token_bytes(32),
        assignee=rng.choice(officers) if rng.random() < 0.8 else None,
        outcome=Outcome.ACCEPTED if finished else "",
        answered_at=received + timedelta(days=20) if finished else None,
        closed_at=received + timedelta(days=25) if status == ApplicationStatus.CLOSED else None,
    )
    seal_json(
        app,
        "applicant_enc",
        {"first_name": "Ayşe", "last_name": f"Yılmaz {number}", "tckn": "10000000146",
         "address": "Çiçek Sok. No:5 Kadıköy İstanbul", "email": f"kisi{number}@ornek.com.tr",
         "phone": "+905321234567", "nationality": "", "foreign_id": ""},
    )  # fmt: skip
    seal_text(app, "details_enc", "Hakkımda hangi verileri işlediğinizi öğrenmek istiyorum.")
    return app


def load(count: int, officers: list[User]) -> float:
    began = time.perf_counter()
    rng = random.Random(11)
    now = timezone.now()
    for first in range(0, count, BATCH):
        rows = [_row(n + 1, rng, officers, now) for n in range(first, min(first + BATCH, count))]
        Application.objects.bulk_create(rows)
        if (first // BATCH + 1) % 5 == 0:
            print(f"  loaded {first + len(rows):,} applications", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE requests_application")
    return time.perf_counter() - began


def officers_create() -> list[User]:
    users = []
    for n in range(OFFICERS):
        user = User(username=f"officer{n}", role=Role.REQUEST_OFFICER, email=f"o{n}@ornek.com.tr")
        user.set_unusable_password()
        user.save()
        TOTPDevice.objects.create(user=user, name="bench", key=secrets.token_hex(20))
        users.append(user)
    return users


# --- The server and the client ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def server() -> int:
    """gunicorn, one sync worker, as the runtime role; the bench's URLs add the trivial view."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.server_settings",
        "PORTAL_DB_ROLE": "runtime",
        "PYTHONPATH": str(ROOT),
    }
    log_path = ROOT / ".run" / "bench" / "applications-server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
             f"127.0.0.1:{port}", "--workers", "1", "--timeout", "120"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(log_path.read_text())
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.2)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=30)


def session_for(user: User) -> str:
    """A logged-in session with a verified second factor, as after a real log-in."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    store["_auth_user_hash"] = user.get_session_auth_hash()
    store["otp_device_id"] = TOTPDevice.objects.get(user=user).persistent_id
    store.save()
    return store.session_key


def measure(port: int, host: str, cookie: str, pages: dict[str, str], requests: int) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Host": host, "Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"}
    results = {name: Latency(name) for name in pages}

    def get(path: str) -> float:
        began = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - began
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {body[:300]!r}")
        return elapsed

    for _ in range(WARMUP):
        for path in pages.values():
            get(path)
    for _ in range(requests):
        for name, path in pages.items():
            results[name].samples.append(get(path))
    conn.close()
    return results


def _explain(name: str, captured: CaptureQueriesContext) -> None:
    """The plans of the page's queries on applications (BENCH_EXPLAIN=1), for tuning."""
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            if "requests_application" not in query["sql"] or not query["sql"].startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
            plan = "\n    ".join(row[0] for row in cursor.fetchall())
            print(f"--- {name}\n    {plan}", flush=True)


def count_queries(host: str, user: User, pages: dict[str, str], search: str) -> dict[str, int]:
    client = Client(HTTP_HOST=host)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session["otp_device_id"] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()
    counts = {}
    for name, path in pages.items():
        client.get(path)  # warm
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        counts[name] = len(captured)
        if os.environ.get("BENCH_EXPLAIN"):
            _explain(name, captured)
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/requests/", {"identifier": search})
    assert response.status_code == 200
    counts["search by identifier (POST)"] = len(captured)
    return counts


def main(args: argparse.Namespace, *, out_dir: Path, controller: Callable | None = None):
    figures = Figures(applications=args.applications, controllers=args.app_controllers)
    tenant = connection.tenant
    with contextlib.ExitStack() as others:
        began = time.perf_counter()
        for n in range(1, args.app_controllers):
            others.enter_context(controller(f"benchapp{n:02d}"))
        figures.provision_seconds = time.perf_counter() - began
        with tenant_context(tenant):
            officers = officers_create()
            figures.load_seconds = load(args.applications, officers)
            rows = Application.objects.order_by("due_on", "pk")
            last = rows.reverse().values_list("due_on", "pk")[60]
            sample = rows.filter(status=ApplicationStatus.IN_PROGRESS).first()
            user = officers[0]
            pages = {
                "trivial view": "/bench/trivial/",
                "empty page in the layout": "/bench/layout/",
                "queue, first page": "/requests/",
                "queue, filtered page": f"/requests/?right=e&officer={officers[1].pk}&status=all",
                "queue, deep page": f"/requests/?status=all&after={last[0]}_{last[1]}",
                "application page": f"/requests/{sample.reference}/",
            }
            cookie = session_for(user)
            with server() as port:
                figures.latencies = measure(port, tenant.host, cookie, pages, args.app_requests)
            pages.pop("trivial view")
            pages.pop("empty page in the layout")
            pages["queue, one row (by reference)"] = f"/requests/?reference={sample.reference}"
            figures.queries = count_queries(tenant.host, user, pages, "10000000146")
    return figures
