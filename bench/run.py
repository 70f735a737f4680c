"""`make bench`: benchmarks, each against a baseline measured in the same run.

Runs in a database of its own (POSTGRES_DB, default kvkk_bench) and a throwaway
controller schema that is dropped afterwards, so it never touches demo data.
"""

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
os.environ.setdefault("POSTGRES_DB", "kvkk_bench")
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ.setdefault("LOG_LEVEL", "WARNING")

from stores import ensure_database  # noqa: E402

SLUG = "benchctl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--items-per-subject", type=int, default=10)
    parser.add_argument(
        "--batch", type=int, default=1000, help="subjects per bulk call (API limit 1000)"
    )
    parser.add_argument(
        "--clients", type=int, default=1, help="concurrent bulk clients (API workers)"
    )
    args = parser.parse_args()

    ensure_database(
        {
            "POSTGRES_HOST": os.environ.get("POSTGRES_HOST", "127.0.0.1"),
            "POSTGRES_PORT": os.environ.get("POSTGRES_PORT", "5432"),
        },
        os.environ["POSTGRES_DB"],
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django_tenants.utils import schema_context, tenant_context

    from bench import ingest
    from tenants.models import Tenant
    from tenants.services import tenant_provision

    call_command("migrate_schemas", "--shared", verbosity=0)

    def drop() -> None:
        with schema_context("public"):
            for tenant in Tenant.objects.filter(slug=SLUG):
                tenant.domains.all().delete()
                tenant.delete(force_drop=True)

    drop()
    tenant = tenant_provision(
        slug=SLUG,
        legal_name="Ölçüm Deneme A.Ş.",
        vkn="0010011238",
        admin_username="bench",
        admin_email="bench@ornek.com.tr",
    ).tenant
    started = time.monotonic()

    def progress(done: int, elapsed: float) -> None:
        if done % (args.batch * 10) == 0 or done == args.subjects:
            print(f"  {done:>8,} subjects ingested, {elapsed:6.1f} s in the bulk path", flush=True)

    try:
        with tenant_context(tenant):
            figures = ingest.run(
                subjects=args.subjects,
                items_per_subject=args.items_per_subject,
                batch=args.batch,
                clients=args.clients,
                progress=progress,
            )
    finally:
        drop()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print(ingest.report(figures))
    print(f"peak memory {peak_mb:,.0f} MB; wall time {time.monotonic() - started:,.0f} s")
    out = ROOT / ".run" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "ingest.json").write_text(
        json.dumps({**figures.as_dict(), "peak_mb": round(peak_mb)}, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
