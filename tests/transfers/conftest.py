"""A small register and recipients at home and abroad, for the transfer tests."""

import datetime
import itertools

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import User
from subjects import services as subject_services
from subjects import validation
from subjects.models import DataCategory, DataSubject, ProcessingPurpose
from transfers import services
from transfers.models import AbroadRoute, RecipientKind, SafeguardType

_numbers = itertools.count(1)


def subject(*categories: str, group: str = "customer", name: str = "Ayşe Yılmaz") -> DataSubject:
    """A subject of the current schema with one item per category (customer service)."""
    number = next(_numbers)
    record = {
        "group": group,
        "name": name,
        "identifiers": {"email": f"aktarim{number}.{connection.schema_name}@ornek.com.tr"},
        "items": [
            {
                "category": code,
                "purpose": "customer_service",
                "legal_basis": "art6_3" if code == "health" else "art5_2_c",
                "source_system": "crm",
                "value": f"değer {number}",
                "collected_at": "2025-03-01T10:00:00+03:00",
            }
            for code in (categories or ("contact",))
        ],
    }
    result = subject_services.register_ingest(
        inputs=validation.records_validate(records=[record]), source="test"
    )
    return DataSubject.objects.get(uuid=result.subjects[0])


def category_ids(*codes: str) -> list[int]:
    return list(DataCategory.objects.filter(code__in=codes).values_list("pk", flat=True))


def purpose(code: str = "customer_service") -> ProcessingPurpose:
    return ProcessingPurpose.objects.get(code=code)


def user(username: str = "colleague") -> User:
    return User.objects.get(username=username)


def home_recipient(name: str = "Kargo Lojistik A.Ş."):
    return services.recipient_create(
        actor=None, name=name, kind=RecipientKind.SUPPLIER, country="TR"
    )


def abroad_recipient(name: str = "Cloud GmbH", **route):
    return services.recipient_create(
        actor=None, name=name, kind=RecipientKind.SUB_PROCESSOR, country="DE", **route
    )


def contract_recipient(signed_on: datetime.date, notified_on: datetime.date | None = None):
    return abroad_recipient(
        route=AbroadRoute.SAFEGUARD,
        safeguard_type=SafeguardType.STANDARD_CONTRACT,
        contract_signed_on=signed_on,
        contract_notified_on=notified_on,
    )


@pytest.fixture
def in_acme(acme):
    with tenant_context(acme):
        yield acme


@pytest.fixture
def in_globex(globex):
    with tenant_context(globex):
        yield globex
