"""Crash-safe and exactly once: a real worker killed with SIGKILL in the middle of a run.

The run is executed by real Celery worker processes with small batches. The first worker is
killed (kill -9) when some but not all targets are done; the broker hands the un-acked task
to a second worker once its visibility timeout has passed, and the run resumes. Every target
is destroyed exactly once, one minutes record covers them all, and nothing else is gone.

The workers get a broker key prefix of their own, so their short visibility timeout never
hands out another test run's tasks sharing the same Redis.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest
from celery import Celery
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Role
from audit.models import Action, AuditEntry
from retention.models import DestroyedBatch, DestructionMinutes, DestructionRun
from retention.scan import run_scan
from retention.selectors import targets_done
from subjects import services, validation
from subjects.models import PersonalDataItem
from tests.conftest import ROOT, in_thread, service_env
from tests.factories import staff_create
from tests.retention.conftest import contact_rule, records

pytestmark = [pytest.mark.worker, pytest.mark.django_db]

SUBJECTS = 2_000
EXPIRED_EACH = 10  # 20,000 items past retention
BATCH = 100  # 200 batches
VISIBILITY_SECONDS = 5


def _broker(prefix: str) -> Celery:
    broker = Celery("crash-test", broker=settings.CELERY_BROKER_URL)
    broker.conf.broker_transport_options = {"global_keyprefix": prefix}
    return broker


def _worker(*, broker: Celery, queue: str, prefix: str, name: str) -> subprocess.Popen:
    log_path = ROOT / ".run" / f"test-crash-{name}.log"
    node = f"crash-{name}-{os.getpid()}"
    env = {
        **service_env(),
        "CELERY_BROKER_KEY_PREFIX": prefix,
        "CELERY_VISIBILITY_TIMEOUT_SECONDS": str(VISIBILITY_SECONDS),
        "RETENTION_BATCH_SIZE": str(BATCH),
    }
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
             "--loglevel=WARNING", "-Q", queue, "--without-gossip", "--without-mingle",
             "-n", f"{node}@%h"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Celery worker died: {log_path.read_text()}")
        if broker.control.ping(destination=[f"{node}@{socket.gethostname()}"], timeout=1):
            return process
    process.kill()
    raise RuntimeError("Celery worker did not answer within 60 s")


def _prepare(tenant) -> tuple[int, set[int], int]:
    """A controller with 20,000 expired items and a few recent ones; an approved run of them."""
    with tenant_context(tenant):
        staff_create(schema=tenant.schema_name, username="admin", role=Role.CONTROLLER_ADMIN)
        contact_rule(years=1)
        for start in range(0, SUBJECTS, 500):
            inputs = validation.records_validate(
                records=records(500, items_each=EXPIRED_EACH, start=start)
            )
            services.register_ingest(inputs=inputs, actor_label="test", source="test")
        recent = validation.records_validate(
            records=records(5, start=SUBJECTS, collected_at=timezone.now().isoformat())
        )
        services.register_ingest(inputs=recent, actor_label="test", source="test")
        run = run_scan(kind=DestructionRun.Kind.PERIODIC)
        DestructionRun.objects.filter(pk=run.pk).update(
            status=DestructionRun.Status.APPROVED, approved_at=timezone.now()
        )
        targets = set(run.targets.values_list("item_id", flat=True))
        return run.pk, targets, PersonalDataItem.objects.count()


def _progress(tenant, run_id: int) -> tuple[int, str]:
    def read():
        with tenant_context(tenant):
            run = DestructionRun.objects.get(pk=run_id)
            return targets_done(run=run), run.status

    return in_thread(read)


def _wait_for(condition, *, seconds: float, poll: float = 0.02):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError("waited in vain")


def test_a_worker_killed_mid_run_is_replaced_and_every_item_is_destroyed_exactly_once(
    committed_tenant,
):
    # given an approved run of 20,000 items and a worker executing it in batches of 100
    tenant = committed_tenant("crashco")
    run_id, targets, items_before = in_thread(_prepare, tenant)
    assert len(targets) == SUBJECTS * EXPIRED_EACH
    prefix = f"crash-{uuid.uuid4().hex[:8]}:"
    queue = f"{os.environ['CELERY_QUEUE']}-crash"
    broker = _broker(prefix)
    first = _worker(broker=broker, queue=queue, prefix=prefix, name="first")
    second = None
    try:
        broker.send_task(
            "retention.tasks.execute",
            kwargs={"schema_name": tenant.schema_name, "run_id": run_id},
            queue=queue,
        )
        sent_at = time.monotonic()

        # when it is killed with SIGKILL after some batches, before the last
        done_at_kill = _wait_for(
            lambda: (done := _progress(tenant, run_id)[0]) >= 10 * BATCH and done, seconds=120
        )
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        done_after_kill, status = _progress(tenant, run_id)
        assert done_after_kill < len(targets), "the run finished before the kill: more items"
        assert status == DestructionRun.Status.RUNNING
        # and a new worker starts once the broker may hand the task out again
        time.sleep(max(0.0, sent_at + VISIBILITY_SECONDS + 1 - time.monotonic()))
        second = _worker(broker=broker, queue=queue, prefix=prefix, name="second")

        # then the run finishes
        _wait_for(
            lambda: _progress(tenant, run_id)[1] == DestructionRun.Status.DONE,
            seconds=180,
            poll=0.5,
        )
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        broker.close()

    def outcome():
        with tenant_context(tenant):
            run = DestructionRun.objects.get(pk=run_id)
            ledger = [
                item_id
                for ids in DestroyedBatch.objects.filter(run_uuid=run.uuid).values_list(
                    "destroyed_ids", flat=True
                )
                for item_id in ids
            ]
            return {
                "pending": run.targets.count() - targets_done(run=run),
                "remaining_targets": PersonalDataItem.objects.filter(pk__in=targets).count(),
                "items_after": PersonalDataItem.objects.count(),
                "minutes": list(DestructionMinutes.objects.filter(run=run).values("body")),
                "all_minutes": DestructionMinutes.objects.count(),
                "ledger": ledger,
                "destroy_entries": AuditEntry.objects.filter(action=Action.DESTROY).count(),
            }

    result = in_thread(outcome)
    assert done_at_kill < len(targets)
    assert result["pending"] == 0
    assert result["remaining_targets"] == 0  # every target destroyed
    assert result["items_after"] == items_before - len(targets)  # and nothing else
    assert result["all_minutes"] == len(result["minutes"]) == 1  # one minutes record
    body = result["minutes"][0]["body"]
    assert body["totals"]["items"] == len(targets)  # the minutes cover every destroyed item
    assert result["destroy_entries"] == 1  # one `destroy` entry in the processing log
    # The ledger names every destroyed item and nothing else. Its row commits before the
    # batch's data, so a batch the kill cut between the two is written again when it is
    # done again: an id may stand twice, which replaying (idempotent) does not mind.
    assert set(result["ledger"]) == set(targets)
