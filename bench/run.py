"""`make bench`: the benchmarks under bench/, each against a baseline measured in the same run.

    .venv/bin/python scripts/with_stores.py .venv/bin/python bench/run.py [BENCHMARK ...] [options]

Runs in a database of its own (POSTGRES_DB, default kvkk_bench, and its key
database, created when missing), as the owner role (it creates tables), and,
per benchmark, in a throwaway controller provisioned fresh and dropped
afterwards — schema, Tenant and Domain rows, keys — even when the run fails, so
it never touches development or demo data. DEBUG is off unless asked for: its
query log would be measured too.

A benchmark is a module bench/<name>.py with ``add_arguments(parser)`` and
``main(args, out_dir=..., controller=...)`` returning figures with ``report()``
and ``as_dict()``; ``controller(slug)`` gives it more throwaway controllers.
List it in BENCHMARKS. Results go to .run/bench/<name>.json.
"""

import argparse
import contextlib
import importlib
import json
import os
import platform
import resource
import signal
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
os.environ.setdefault("PORTAL_ENV", "development")  # settings default to production
os.environ.setdefault("POSTGRES_DB", "kvkk_bench")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ["PORTAL_DB_ROLE"] = "owner"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django_tenants.utils import schema_context, tenant_context  # noqa: E402
from stores import ensure_database  # noqa: E402

from retention.ledger import ledger_forget_schema  # noqa: E402
from subjects.crypto import KEYS_DATABASE, forget_keyrings  # noqa: E402
from subjects.models import ControllerKey, SubjectDataKey  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import tenant_provision  # noqa: E402

BENCHMARKS = ("ingest", "audit", "destruction", "applications")
SLUG = "benchctl"  # the throwaway controller; its schema has the same name
OUT_DIR = ROOT / ".run" / "bench"


def controller_drop(slug: str) -> None:
    """Remove a throwaway controller: rows, schema, keys, cached keyring (idempotent)."""
    connection.close()  # a run interrupted mid-query may have left the connection unusable
    with schema_context("public"):
        for tenant in Tenant.objects.filter(slug=slug):
            tenant.domains.all().delete()
            tenant.delete(force_drop=True)
        with connection.cursor() as cursor:  # a schema left without its row
            cursor.execute(f"DROP SCHEMA IF EXISTS {connection.ops.quote_name(slug)} CASCADE")
    SubjectDataKey.objects.filter(schema_name=slug).delete()
    ControllerKey.objects.filter(schema_name=slug).delete()
    ledger_forget_schema(slug)  # the next controller of this name is not behind its ledger
    forget_keyrings()


@contextlib.contextmanager
def throwaway_controller(slug: str = SLUG) -> Iterator[Tenant]:
    controller_drop(slug)
    provisioned = tenant_provision(
        slug=slug,
        legal_name="Ölçüm Deneme A.Ş.",
        vkn="0010011238",
        admin_username="bench",
        admin_email="bench@ornek.com.tr",
    )
    print(f"controller {slug!r} provisioned in {provisioned.seconds:.1f} s", flush=True)
    try:
        with tenant_context(provisioned.tenant):
            yield provisioned.tenant
    finally:
        controller_drop(slug)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def environment() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    return {
        "postgres": postgres,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "database": settings.DATABASES["default"]["NAME"],
        "command": " ".join(["bench/run.py", *sys.argv[1:]]),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _terminate(signum, frame):
    raise SystemExit(128 + signum)  # so the controller is dropped on `kill` too


def main() -> int:
    modules = {name: importlib.import_module(f"bench.{name}") for name in BENCHMARKS}
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "benchmarks", nargs="*", metavar="BENCHMARK", help=f"default: all of {BENCHMARKS}"
    )
    for module in modules.values():
        module.add_arguments(parser)
    args = parser.parse_args()
    unknown = set(args.benchmarks) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s) {sorted(unknown)}; known: {BENCHMARKS}")
    signal.signal(signal.SIGTERM, _terminate)

    db = settings.DATABASES["default"]
    server = {"POSTGRES_HOST": db["HOST"], "POSTGRES_PORT": db["PORT"]}
    ensure_database(server, db["NAME"])
    ensure_database(server, settings.DATABASES[KEYS_DATABASE]["NAME"])
    call_command("migrate", database=KEYS_DATABASE, verbosity=0)
    connections[KEYS_DATABASE].close()
    call_command("migrate_schemas", "--shared", verbosity=0)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    env = environment()
    print(
        f"database {env['database']}, PostgreSQL {env['postgres']}, Python {env['python']}, "
        f"{env['cpus']} CPUs",
        flush=True,
    )
    for name in args.benchmarks or BENCHMARKS:
        started = time.monotonic()
        with throwaway_controller():
            figures = modules[name].main(args, out_dir=OUT_DIR, controller=throwaway_controller)
        peak = peak_rss_mb()
        print()
        print(figures.report())
        print(
            f"peak memory (ru_maxrss) {peak:,.0f} MB; wall time {time.monotonic() - started:,.0f} s"
        )
        result = {**figures.as_dict(), "peak_rss_mb": round(peak), **environment()}
        path = OUT_DIR / f"{name}.json"
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(f"written to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
