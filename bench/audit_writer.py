"""One writer process of the processing-log benchmark (bench/audit.py starts several).

    python -m bench.audit_writer --schema S --writer K --count N --mode chained|plain

Sets Django up, enters the schema, says "ready" and waits for a line on stdin; then
appends N entries, each in a transaction of its own, and prints its start and end
time (wall clock, so the parent can take the span over every writer) as JSON.
chained: audit_entry_create(), linked into the chain after each commit, as the portal
does. plain: the same row as one INSERT into an unchained copy of the table.
"""

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from audit.models import Action  # noqa: E402
from audit.services import audit_entry_create  # noqa: E402

PLAIN_TABLE = "bench_audit_plain"
PURPOSES = ("customer_service", "billing", "marketing", "legal_obligation")


def fields(writer: int, n: int) -> dict:
    """The entry writer ``writer`` appends as its ``n``-th: the same both ways."""
    return {
        "action": Action.READ,
        "actor_label": f"yazıcı-{writer}",
        "subject_ref": str(uuid.UUID(int=(writer << 64) | n)),
        "purpose": PURPOSES[n % len(PURPOSES)],
        "detail": {"event": "bench", "writer": writer, "n": n},
    }


def append_chained(writer: int, n: int) -> None:
    with transaction.atomic():
        audit_entry_create(**fields(writer, n))
    # leaving the block commits and, right after, links the entry (audit_chain_link)


def append_plain(writer: int, n: int) -> None:
    row = fields(writer, n)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {PLAIN_TABLE} (at, actor_id, actor_label, action, object_type, "
            "object_id, subject_ref, purpose, detail, ip_address) "
            "VALUES (%s, NULL, %s, %s, '', '', %s, %s, %s, NULL)",
            [
                timezone.now(),
                row["actor_label"],
                str(row["action"]),
                row["subject_ref"],
                row["purpose"],
                json.dumps(row["detail"]),
            ],
        )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schema", required=True)
    parser.add_argument("--writer", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--mode", choices=("chained", "plain"), required=True)
    args = parser.parse_args()
    append = append_chained if args.mode == "chained" else append_plain
    with schema_context(args.schema):
        connection.ensure_connection()
        print("ready", flush=True)
        sys.stdin.readline()
        started = time.time()
        for n in range(args.count):
            append(args.writer, n)
        ended = time.time()
    print(json.dumps({"started": started, "ended": ended, "count": args.count}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
