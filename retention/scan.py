"""The scan of the destruction service: fix what a run will end, before anything ends.

A scan inserts the run's DestructionTargets set-based (INSERT … SELECT) from the items past
their retention (periodic) or the items an application or the register names, leaves out
what a legal hold keeps (recording, per hold, how many items and why), and fills the
dry run's counts and sample. Everything runs in the current schema: another controller's
data is never read, let alone touched.
"""

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from retention import selectors
from retention.models import DestructionRun, RetentionRule
from subjects.models import DataCategory

SAMPLE_SIZE = 10


def _candidates_sql(kind: str) -> str:
    if kind == DestructionRun.Kind.PERIODIC:
        return selectors.EXPIRED_CANDIDATES_SQL
    return selectors.NAMED_CANDIDATES_SQL


def _rule_text(rule: RetentionRule | None) -> str:
    if rule is None:
        return ""
    return f"{rule.period} {rule.get_period_unit_display()} · {rule.get_event_display()}"


@transaction.atomic
def run_scan(
    *,
    kind: str,
    created_by=None,
    reason: str = "",
    subject_ids: list[int] | None = None,
    item_ids: list[int] | None = None,
    now: datetime | None = None,
) -> DestructionRun:
    """Create a dry run with its targets fixed (see the module's docstring).

    ``subject_ids`` and ``item_ids`` are primary keys, for APPLICATION and REGISTER runs:
    every item of those subjects and those items are destroyed, except held ones.
    """
    now = now or timezone.now()
    subject_ids = sorted({int(pk) for pk in subject_ids or []})
    item_ids = sorted({int(pk) for pk in item_ids or []})
    run = DestructionRun.objects.create(
        kind=kind,
        status=DestructionRun.Status.SCANNING,
        reason=reason[:255],
        created_by=created_by,
        subject_ids=subject_ids,
    )
    bound = selectors.params(
        now=now, reason=run.reason, subject_ids=subject_ids, item_ids=item_ids, run=run.pk
    )
    candidates = _candidates_sql(kind)
    hold_match = f"{selectors.ACTIVE_HOLD_SQL} AND {selectors.HOLD_MATCH_SQL}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO retention_destructiontarget (run_id, item_id, subject_id, category_id, method)
            SELECT %(run)s, c.item_id, c.subject_id, c.category_id, c.method
              FROM ({candidates}) c
             WHERE {selectors.NOT_HELD_SQL}
            """,  # noqa: S608 (constant fragments, bound parameters)
            bound,
        )
        # Held items, per hold (an item two holds keep counts for both).
        cursor.execute(
            f"""
            SELECT h.id, h.scope, h.reason, count(*)
              FROM ({candidates}) c JOIN retention_legalhold h ON {hold_match}
             GROUP BY h.id, h.scope, h.reason ORDER BY h.id
            """,  # noqa: S608 (constant fragments, bound parameters)
            bound,
        )
        held = [
            {"hold": hold_id, "scope": scope, "reason": hold_reason, "items": count}
            for hold_id, scope, hold_reason, count in cursor.fetchall()
        ]
        # Held items per category (each item once).
        cursor.execute(
            f"""
            SELECT c.category_id, c.method, count(*)
              FROM ({candidates}) c
             WHERE NOT ({selectors.NOT_HELD_SQL})
             GROUP BY c.category_id, c.method
            """,  # noqa: S608 (constant fragments, bound parameters)
            bound,
        )
        held_per_category = {(cat, method): n for cat, method, n in cursor.fetchall()}
        cursor.execute(
            """
            SELECT category_id, method, count(*), count(DISTINCT subject_id)
              FROM retention_destructiontarget WHERE run_id = %s
             GROUP BY category_id, method
            """,
            [run.pk],
        )
        targeted = {(cat, method): (n, subjects) for cat, method, n, subjects in cursor.fetchall()}
        cursor.execute(
            """
            SELECT s.uuid FROM subjects_datasubject s
             WHERE s.id IN (SELECT subject_id FROM retention_destructiontarget WHERE run_id = %s
                            UNION SELECT unnest(%s::bigint[]))
             ORDER BY s.id LIMIT %s
            """,
            [run.pk, subject_ids, SAMPLE_SIZE],
        )
        sample = [str(subject_uuid) for (subject_uuid,) in cursor.fetchall()]
    categories = {
        category.pk: category
        for category in DataCategory.objects.filter(
            pk__in={cat for cat, _method in [*held_per_category, *targeted]}
        ).select_related("retention_rule")
    }
    counts = {}
    for cat, method in sorted({*held_per_category, *targeted}):
        category = categories[cat]
        rule = getattr(category, "retention_rule", None)
        entry = counts.setdefault(
            category.code,
            {
                "method": method,
                "rule": _rule_text(rule) if kind == DestructionRun.Kind.PERIODIC else "",
                "items": 0,
                "held": 0,
                "subjects": 0,
            },
        )
        items, subjects = targeted.get((cat, method), (0, 0))
        entry["items"] += items
        entry["subjects"] += subjects
        entry["held"] += held_per_category.get((cat, method), 0)
    run.held = held
    run.counts = counts
    run.sample = sample
    run.scanned_at = timezone.now()
    run.status = DestructionRun.Status.DRY_RUN
    run.save(update_fields=["held", "counts", "sample", "scanned_at", "status"])
    return run
