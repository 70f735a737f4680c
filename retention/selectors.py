"""Stand-in for the engine's reads (replaced by the engine's own module when branches merge)."""

from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.db.models import Min, Q
from django.utils import timezone

from config.kvkk import RetentionEvent
from retention.models import LegalHold, PeriodUnit, RetentionRule
from subjects.models import PersonalDataItem


def _period(rule: RetentionRule) -> relativedelta:
    unit = {PeriodUnit.DAYS: "days", PeriodUnit.MONTHS: "months", PeriodUnit.YEARS: "years"}
    return relativedelta(**{unit[rule.period_unit]: rule.period})


def _rule_expired(rule: RetentionRule, now: datetime) -> Q | None:
    cutoff = now - _period(rule)
    if rule.event == RetentionEvent.COLLECTED:
        return Q(category_id=rule.category_id, collected_at__lt=cutoff)
    if rule.event == RetentionEvent.LAST_USED:
        return Q(category_id=rule.category_id) & (
            Q(last_used_at__lt=cutoff) | Q(last_used_at__isnull=True, collected_at__lt=cutoff)
        )
    if rule.event == RetentionEvent.RELATIONSHIP_ENDED:
        return Q(category_id=rule.category_id, subject__relationship_ended_at__lt=cutoff)
    if rule.named_date and rule.named_date + _period(rule) < now.date():
        return Q(category_id=rule.category_id)
    return None


def expired_items(now: datetime | None = None):
    """Items past their retention, not destroyed, not held."""
    now = now or timezone.now()
    expired = Q(pk__in=[])
    for rule in RetentionRule.objects.all():
        condition = _rule_expired(rule, now)
        if condition is not None:
            expired |= condition
    holds = LegalHold.objects.filter(released_at__isnull=True, ends_on__gte=now.date())
    return (
        PersonalDataItem.objects.filter(expired, deleted_at__isnull=True)
        .exclude(subject_id__in=holds.exclude(subject=None).values("subject_id"))
        .exclude(category_id__in=holds.exclude(category=None).values("category_id"))
    )


def backlog(now: datetime | None = None) -> dict:
    """How many items are past retention, and since when the oldest of them is."""
    now = now or timezone.now()
    items = expired_items(now)
    oldest = None
    for rule in RetentionRule.objects.filter(event=RetentionEvent.COLLECTED):
        first = items.filter(category_id=rule.category_id).aggregate(at=Min("collected_at"))["at"]
        if first is not None:
            expired_at = first + _period(rule)
            oldest = expired_at if oldest is None else min(oldest, expired_at)
    return {"expired_items": items.count(), "oldest_expired_at": oldest}
