"""A register with items past their retention, for the periodic-run tests."""

from datetime import timedelta

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from config.kvkk import DestructionMethod, RetentionEvent
from retention.models import DestructionRun, PeriodUnit, RetentionRule
from subjects import services, validation
from subjects.models import DataCategory, PersonalDataItem
from tests.factories import totp_now
from tests.subjects.conftest import api, globex_api  # noqa: F401  (subjects to hold or end)

COLLECTED_LONG_AGO = "2020-03-01T10:00:00+03:00"


def contact_rule(*, years: int = 1, method: str = DestructionMethod.DESTROY) -> RetentionRule:
    """Contact data is kept `years` years from collection (the current schema)."""
    return RetentionRule.objects.create(
        category=DataCategory.objects.get(code="contact"),
        period=years,
        period_unit=PeriodUnit.YEARS,
        event=RetentionEvent.COLLECTED,
        method=method,
        source=RetentionRule.Source.CONTROLLER,
    )


def records(
    count: int, *, items_each: int = 1, collected_at: str = COLLECTED_LONG_AGO, start: int = 0
) -> list[dict]:
    return [
        {
            "group": "customer",
            "name": f"Müşteri {n}",
            "identifiers": {"email": f"musteri{n}@ornek.com.tr"},
            "items": [
                {
                    "category": "contact",
                    "purpose": "customer_service",
                    "legal_basis": "art5_2_c",
                    "source_system": "crm",
                    "value": f"Adres {n}/{i}",
                    "collected_at": collected_at,
                }
                for i in range(items_each)
            ],
        }
        for n in range(start, start + count)
    ]


def register_fill(count: int, **options) -> list[int]:
    """`count` subjects with contact items (by default collected in 2020); their item ids."""
    inputs = validation.records_validate(records=records(count, **options))
    services.register_ingest(inputs=inputs, actor_label="test", source="test")
    return list(PersonalDataItem.objects.order_by("pk").values_list("pk", flat=True))


def current_code(username: str) -> str:
    return totp_now(TOTPDevice.objects.get(user__username=username))


def user(username: str) -> User:
    return User.objects.get(username=username)


def run_create(*, status=DestructionRun.Status.DRY_RUN, days_ago: int = 0, **fields):
    run = DestructionRun.objects.create(kind=DestructionRun.Kind.PERIODIC, status=status, **fields)
    if days_ago:
        DestructionRun.objects.filter(pk=run.pk).update(
            created_at=timezone.now() - timedelta(days=days_ago)
        )
        run.refresh_from_db()
    return run
