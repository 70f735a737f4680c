"""Stand-in for the engine's scan (replaced by the engine's own module when branches merge)."""

from datetime import datetime

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from retention.models import DestructionRun, DestructionTarget, RetentionRule
from retention.selectors import expired_items
from subjects.models import DataSubject, PersonalDataItem


@transaction.atomic
def run_scan(
    *,
    kind: str,
    created_by=None,
    reason: str = "",
    subject_ids=None,
    item_ids=None,
    now: datetime | None = None,
) -> DestructionRun:
    now = now or timezone.now()
    run = DestructionRun.objects.create(
        kind=kind, status=DestructionRun.Status.SCANNING, created_by=created_by, reason=reason
    )
    if kind == DestructionRun.Kind.PERIODIC:
        items = expired_items(now)
    else:
        items = PersonalDataItem.objects.filter(deleted_at__isnull=True)
        if subject_ids is not None:
            items = items.filter(subject_id__in=subject_ids)
        if item_ids is not None:
            items = items.filter(pk__in=item_ids)
    rules = {rule.category_id: rule for rule in RetentionRule.objects.select_related("category")}
    DestructionTarget.objects.bulk_create(
        DestructionTarget(
            run=run,
            item_id=item_id,
            subject_id=subject_id,
            category_id=category_id,
            method=rules[category_id].method if category_id in rules else "destroy",
        )
        for item_id, subject_id, category_id in items.values_list(
            "pk", "subject_id", "category_id"
        ).iterator()
    )
    counts = {}
    for row in run.targets.values("category_id", "method").annotate(
        items=Count("id"), subjects=Count("subject_id", distinct=True)
    ):
        rule = rules.get(row["category_id"])
        code = rule.category.code if rule else str(row["category_id"])
        counts[code] = {
            "method": row["method"],
            "rule": str(rule) if rule else "",
            "items": row["items"],
            "held": 0,
            "subjects": row["subjects"],
        }
    sample_ids = run.targets.values_list("subject_id", flat=True).distinct()[:5]
    run.counts = counts
    run.sample = [
        str(uuid)
        for uuid in DataSubject.objects.filter(pk__in=list(sample_ids)).values_list(
            "uuid", flat=True
        )
    ]
    run.status = DestructionRun.Status.DRY_RUN
    run.scanned_at = now
    run.save()
    return run
