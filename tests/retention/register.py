"""A small register for the destruction tests: subjects with items, rules, holds."""

import itertools
from datetime import date, datetime, timedelta

from django.db import connection
from django.utils import timezone

from accounts.models import User
from retention.models import DestructionRun, LegalHold, RetentionRule
from subjects import services, validation
from subjects.models import DataCategory, DataSubject, PersonalDataItem

NOW = timezone.now()
_numbers = itertools.count(1)


def years_ago(years: float) -> datetime:
    return NOW - timedelta(days=365.25 * years)


def item(category="contact", value="Çiçek Sok. No:5 Kadıköy", collected=None, last_used=None):
    raw = {
        "category": category,
        "purpose": "customer_service",
        "legal_basis": "art5_2_c",
        "source_system": "crm",
        "value": value,
        "collected_at": (collected or years_ago(1)).isoformat(),
    }
    if last_used is not None:
        raw["last_used_at"] = last_used.isoformat()
    return raw


def subject(*items, name="Ayşe Yılmaz", identifier=None, ended=None) -> DataSubject:
    """A subject with these items in the current schema (a unique e-mail identifies it)."""
    number = next(_numbers)
    record = {
        "group": "customer",
        "name": name,
        "identifiers": {
            "email": identifier or f"kisi{number}.{connection.schema_name}@ornek.com.tr"
        },
        "items": list(items) or [item()],
    }
    result = services.register_ingest(
        inputs=validation.records_validate(records=[record]), source="test"
    )
    found = DataSubject.objects.get(uuid=result.subjects[0])
    if ended is not None:
        DataSubject.objects.filter(pk=found.pk).update(relationship_ended_at=ended)
        found.refresh_from_db()
    return found


def items_of(found: DataSubject) -> list[PersonalDataItem]:
    return list(PersonalDataItem.objects.filter(subject=found).order_by("pk"))


def rule(category="contact", *, period=1, unit="years", event="collected", method="destroy",
         named_date: date | None = None) -> RetentionRule:  # fmt: skip
    return RetentionRule.objects.update_or_create(
        category=DataCategory.objects.get(code=category),
        defaults={
            "period": period,
            "period_unit": unit,
            "event": event,
            "method": method,
            "named_date": named_date,
            "source": RetentionRule.Source.CONTROLLER,
        },
    )[0]


def admin() -> User:
    return User.objects.filter(role="controller_admin").order_by("pk").first()


def hold(*, scope, reason="Dava: İstanbul 3. Asliye Hukuk 2026/123", **what) -> LegalHold:
    return LegalHold.objects.create(
        scope=scope, reason=reason, owner=admin(), ends_on=date.today() + timedelta(days=30), **what
    )


def approve(run: DestructionRun) -> DestructionRun:
    run.status = DestructionRun.Status.APPROVED
    run.approved_by = admin()
    run.approved_at = timezone.now()
    run.save()
    return run
