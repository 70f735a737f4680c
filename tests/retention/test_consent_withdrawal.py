"""A withdrawn explicit consent makes the items that relied on it due in the next run (C10)."""

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import tenant_context

from retention import scan, selectors
from retention.models import DestructionRun, DestructionTarget
from subjects import services
from tests.retention.register import hold, item, items_of, rule, subject, years_ago


def _on_consent(category="contact"):
    return {**item(category, collected=years_ago(0.1)), "legal_basis": "art5_1"}


def _consented(*items):
    person = subject(item("contact", collected=years_ago(0.1)))
    consent = services.consent_record(
        subject=person,
        raw={
            "purpose": "customer_service",
            "channel": "web_form",
            "given_at": (timezone.now() - timedelta(days=60)).isoformat(),
            "evidence_reference": "WEB-77",
        },
    )
    services.items_add(subject=person, raw_items=list(items))
    return person, consent


def test_items_of_a_withdrawn_consent_appear_in_the_next_dry_run_even_before_their_period(acme):
    with tenant_context(acme):
        rule("contact", period=10, method="anonymise")
        person, consent = _consented(_on_consent("contact"), _on_consent("marketing"))
        first = scan.run_scan(kind=DestructionRun.Kind.PERIODIC)
        assert not first.targets.exists()

        services.consent_withdraw(consent=consent)
        run = scan.run_scan(kind=DestructionRun.Kind.PERIODIC)

        on_consent = [i.pk for i in items_of(person) if i.legal_basis == "art5_1"]
        targets = dict(DestructionTarget.objects.filter(run=run).values_list("item_id", "method"))
        assert sorted(targets) == sorted(on_consent)
        contact, marketing = sorted(on_consent)
        # the category's own rule decides how; a category without a rule is destroyed
        assert targets == {contact: "anonymise", marketing: "destroy"}
        assert set(selectors.expired_items().values_list("pk", flat=True)) == set(on_consent)
        assert selectors.backlog()["expired_items"] == 2


def test_a_withdrawal_while_another_consent_still_holds_flags_nothing(acme):
    with tenant_context(acme):
        person, consent = _consented(_on_consent())
        services.consent_record(
            subject=person,
            raw={
                "purpose": "customer_service",
                "channel": "paper",
                "given_at": (timezone.now() - timedelta(days=1)).isoformat(),
                "evidence_reference": "FORM-2",
            },
        )
        services.consent_withdraw(consent=consent)
        assert not selectors.expired_items().exists()


def test_a_legal_hold_still_keeps_items_of_a_withdrawn_consent(acme):
    with tenant_context(acme):
        person, consent = _consented(_on_consent())
        hold(scope="subject", subject=person)
        services.consent_withdraw(consent=consent)
        assert not selectors.expired_items().exists()
