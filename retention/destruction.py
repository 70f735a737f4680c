"""Stand-in for the engine's destruction (replaced by the engine's own module when merged).

Batches of DestructionTargets, each its own transaction removing the items and marking the
targets done; the minutes are written once, when no target is pending.
"""

import hashlib

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.models import Action
from audit.services import audit_entry_create
from retention.minutes import minutes_record
from retention.models import DestructionMinutes, DestructionRun, DestructionTarget

Status = DestructionRun.Status


def _batch(run_id: int) -> bool:
    with transaction.atomic():
        ids = list(
            DestructionTarget.objects.select_for_update(skip_locked=True)
            .filter(run_id=run_id, done_at__isnull=True)
            .order_by("item_id")
            .values_list("pk", "item_id")[: settings.RETENTION_BATCH_SIZE]
        )
        if not ids:
            return False
        item_ids = [item_id for _pk, item_id in ids]
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM subjects_historicalpersonaldataitem WHERE id = ANY(%s)", [item_ids]
            )
            cursor.execute("DELETE FROM subjects_personaldataitem WHERE id = ANY(%s)", [item_ids])
        DestructionTarget.objects.filter(pk__in=[pk for pk, _item in ids]).update(
            done_at=timezone.now()
        )
    return True


def run_execute(*, run_id: int) -> DestructionRun:
    with transaction.atomic():
        run = DestructionRun.objects.select_for_update().get(pk=run_id)
        if run.status not in (Status.APPROVED, Status.RUNNING):
            return run
        if run.status == Status.APPROVED:
            run.status, run.started_at = Status.RUNNING, timezone.now()
            run.save(update_fields=["status", "started_at"])
    while _batch(run_id):
        pass
    with transaction.atomic():
        run = DestructionRun.objects.select_for_update().get(pk=run_id)
        if DestructionMinutes.objects.filter(run=run).exists():
            return run
        ids = run.targets.order_by("item_id").values_list("item_id", flat=True)
        digest = hashlib.sha256("\n".join(map(str, ids)).encode()).hexdigest()
        run.status, run.finished_at = Status.DONE, timezone.now()
        run.save(update_fields=["status", "finished_at"])
        minutes_record(run=run, affected_ids_digest=digest)
        audit_entry_create(action=Action.DESTROY, target=run, detail={"run": str(run.uuid)})
    return run
