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

from django.db import connections  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from retention.destruction import run_execute  # noqa: E402
from retention.models import DestructionRun  # noqa: E402
from retention.selectors import targets_done  # noqa: E402


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class StatementTimes:
    """Seconds per statement (by its first words), for `BENCH_SQL=PATH`: where a run spends."""

    def __init__(self):
        self.times: dict[str, list] = {}

    def __call__(self, execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            entry = self.times.setdefault(" ".join(sql.split())[:90], [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - began

    def write(self, path: str) -> None:
        rows = sorted(self.times.items(), key=lambda row: -row[1][1])
        Path(path).write_text(
            "".join(f"{seconds:8.3f} s {count:6d}  {sql}\n" for sql, (count, seconds) in rows)
        )


def main() -> int:
    schema, run_id = sys.argv[1], int(sys.argv[2])
    statements = os.environ.get("BENCH_SQL")  # PATH: seconds per statement go to PATH.SCHEMA
    times = StatementTimes() if statements else None
    if times:
        for alias in connections:
            connections[alias].execute_wrappers.append(times)
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
        if times:
            times.write(f"{statements}.{schema}")
        items = targets_done(run=DestructionRun.objects.get(pk=run_id))
    print(json.dumps({"items": items, "seconds": seconds, "peak_mb": peak_mb()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
