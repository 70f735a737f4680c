"""A worker's share of the destruction benchmark: `execute_run.py SCHEMA RUN_ID`.

Runs retention.destruction.run_execute for one run in the schema, as a Celery worker
would, and prints one JSON line: the items ended, the seconds, and the process's peak
resident memory (VmHWM, from the kernel).
"""

import cProfile
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
os.environ.setdefault("PORTAL_ENV", "development")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"

import django  # noqa: E402

django.setup()

from django_tenants.utils import schema_context  # noqa: E402

from retention.destruction import run_execute  # noqa: E402
from retention.models import DestructionTarget  # noqa: E402


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    schema, run_id = sys.argv[1], int(sys.argv[2])
    with schema_context(schema):
        profile = os.environ.get("BENCH_PROFILE")  # a path: cProfile the run into it
        profiler = cProfile.Profile() if profile else None
        began = time.perf_counter()
        if profiler:
            profiler.runcall(run_execute, run_id=run_id)
            profiler.dump_stats(profile)
        else:
            run_execute(run_id=run_id)
        seconds = time.perf_counter() - began
        items = DestructionTarget.objects.filter(run_id=run_id, done_at__isnull=False).count()
    print(json.dumps({"items": items, "seconds": seconds, "peak_mb": peak_mb()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
