"""A verified applicant with data, rules, recipients and a third party in an interaction
(the current schema), for the tests of acting on the rights."""

import itertools
from dataclasses import dataclass

from django.utils import timezone

from accounts.models import User
from requests import services
from requests.models import Application, IdentityMethod
from retention.models import PeriodUnit, RetentionRule
from subjects import services as subject_services
from subjects.models import DataCategory, DataSubject, ProcessingPurpose
from tests.requests.helpers import application, register_subject, tckn_make
from transfers import services as transfer_services
from transfers.models import AbroadRoute, RecipientKind, TransferBasis

THIRD_PARTY = "Mehmet Demir"
TTK = "6102 sayılı TTK m. 82"
_seeds = itertools.count(7000)


@dataclass
class World:
    application: Application | None
    subject: DataSubject
    officer: User
    recipients: list


def rules() -> None:
    """Contact: 2 years, the controller's choice; transactions: 10 years by statute."""
    RetentionRule.objects.get_or_create(
        category=DataCategory.objects.get(code="contact"),
        defaults={"period": 2, "period_unit": PeriodUnit.YEARS, "source": "controller"},
    )
    RetentionRule.objects.get_or_create(
        category=DataCategory.objects.get(code="customer_transaction"),
        defaults={"period": 10, "period_unit": PeriodUnit.YEARS, "source": "statute",
                  "legal_reference": TTK},
    )  # fmt: skip


def world(*, rights=("a", "b", "c", "c2"), verified: bool = True, transaction_item: bool = True,
          recipients: bool = True, username: str = "colleague",
          more_items=(), apply: bool = True) -> World:  # fmt: skip
    rules()
    seed = next(_seeds)
    tckn = tckn_make(seed)
    now = timezone.now().isoformat()
    items = [
        {"category": "contact", "purpose": "customer_service", "legal_basis": "art5_2_c",
         "source_system": "crm", "value": "Çiçek Sok. No:5 Kadıköy", "collected_at": now},
    ]  # fmt: skip
    if transaction_item:
        items.append(
            {"category": "customer_transaction", "purpose": "contract",
             "legal_basis": "art5_2_c", "source_system": "erp",
             "value": "Fatura 2026/77 ödendi", "collected_at": now}
        )  # fmt: skip
    items.extend(
        {"category": code, "purpose": "customer_service", "legal_basis": "art5_2_c",
         "source_system": "crm", "value": f"{code} değeri", "collected_at": now}
        for code in more_items
    )  # fmt: skip
    subject = register_subject(tckn=tckn, email=f"kayitli{seed}@ornek.com.tr", items=items)
    subject_services.interaction_create(
        subject=subject,
        kind="call",
        purpose=ProcessingPurpose.objects.get(code="customer_service"),
        occurred_at=timezone.now(),
        text=f"Müşteri aradı; eşi {THIRD_PARTY} adına da bilgi istedi.",
    )
    officer = User.objects.get(username=username)
    made = []
    if recipients:
        home = transfer_services.recipient_create(
            actor=None, name=f"Kargo Lojistik A.Ş. {seed}", kind=RecipientKind.SUPPLIER,
            country="TR",
        )  # fmt: skip
        abroad = transfer_services.recipient_create(
            actor=None, name=f"Bulut GmbH {seed}", kind=RecipientKind.SUB_PROCESSOR,
            country="DE", route=AbroadRoute.ADEQUACY, adequacy_reference="Karar 2026/1",
        )  # fmt: skip
        for recipient in (home, abroad):
            transfer_services.transfer_record(
                recipient=recipient,
                category_ids=[DataCategory.objects.get(code="contact").pk],
                subject_ids=[subject.pk],
                purpose=ProcessingPurpose.objects.get(code="customer_service"),
                legal_basis=TransferBasis.ART5_GROUND,
                ground="art5_2_c",
                actor=officer,
            )
        made = [home, abroad]
    if not apply:  # the person applies later, through the public form
        return World(None, subject, officer, made)
    app = application(tckn=tckn, rights=rights)
    if verified:
        app = services.identity_verified(
            app, method=IdentityMethod.EMAIL_CODE, destination="k***@ornek.com.tr"
        )
    return World(app, subject, officer, made)
