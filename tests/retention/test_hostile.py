"""Hostile input on the retention forms: a clear message, nothing saved, never a crash."""

import pytest
from django.urls import reverse
from django_tenants.utils import tenant_context

from accounts.models import User
from retention.models import LegalHold, RetentionRule, RetentionSettings

HUGE = "9" * 30
RULE = {
    "period": "1",
    "period_unit": "years",
    "event": "collected",
    "method": "destroy",
    "source": "controller",
    "legal_reference": "",
    "recipient_groups": "",
}


@pytest.mark.parametrize(
    "changes",
    [
        {"period": HUGE},
        {"period": "-1"},
        {"period": "1e3"},
        {"period": "\x00"},
        {"period_unit": "centuries"},
        {"event": "named_date", "named_date": "2026-02-30"},
        {"event": "named_date", "named_date": "99999-01-01"},
        {"method": "burn"},
        {"legal_reference": "x" * 5000},
        {"recipient_groups": "a\x00b"},
    ],
)
def test_a_hostile_rule_is_refused_and_nothing_is_saved(owner, acme, changes):
    response = owner.post(reverse("retention:rule", args=["contact"]), {**RULE, **changes})
    assert response.status_code in (200, 400)
    page = response.content.decode()
    assert "invalid-feedback" in page or "alert-danger" in page
    with tenant_context(acme):
        assert not RetentionRule.objects.filter(category__code="contact").exists()


@pytest.mark.parametrize("months", [HUGE, "-3", "0", "7", "six", "\x00"])
def test_a_hostile_interval_is_refused_and_nothing_is_saved(owner, acme, months):
    response = owner.post(
        reverse("retention:settings"),
        {"interval_months": months, "security_measures": "Şifreleme"},
    )
    assert response.status_code in (200, 400)
    with tenant_context(acme):
        assert not RetentionSettings.objects.filter(interval_months__gt=6).exists()
        assert not RetentionSettings.objects.filter(security_measures="Şifreleme").exists()


def _owner_pk(acme) -> int:
    with tenant_context(acme):
        return User.objects.get(username="owner").pk


@pytest.mark.parametrize(
    "form",
    [
        {
            "scope": "subject",
            "subject_ref": "not-a-uuid",
            "reason": "Dava",
            "ends_on": "2030-01-01",
        },
        {"scope": "category", "category": HUGE, "reason": "Dava", "ends_on": "2030-01-01"},
        {"scope": "reference", "reference": "x" * 500, "reason": "Dava", "ends_on": "2030-01-01"},
        {"scope": "reference", "reference": "D-1", "reason": "", "ends_on": "2030-01-01"},
        {"scope": "reference", "reference": "D-1", "reason": "Dava", "ends_on": "2001-01-01"},
        {"scope": "reference", "reference": "D-1", "reason": "Dava", "ends_on": "1-1-1"},
        {"scope": "galaxy", "reference": "D-1", "reason": "Dava", "ends_on": "2030-01-01"},
        {"scope": "reference", "reference": "D\x00-1", "reason": "Dava", "ends_on": "2030-01-01"},
    ],
)
def test_a_hostile_hold_is_refused_and_nothing_is_saved(owner, acme, form):
    response = owner.post(reverse("retention:holds"), {**form, "owner": _owner_pk(acme)})
    assert response.status_code in (200, 400)
    with tenant_context(acme):
        assert not LegalHold.objects.exists()


@pytest.mark.parametrize("token", ["", "abc", HUGE, "\x00" * 6, "1" * 5000])
def test_a_hostile_approval_code_changes_nothing(owner, acme, token):
    from retention import scan
    from retention.models import DestructionRun

    with tenant_context(acme):
        run = scan.run_scan(kind=DestructionRun.Kind.PERIODIC)
    response = owner.post(reverse("retention:run_approve", args=[run.pk]), {"token": token})
    assert response.status_code == 400
    with tenant_context(acme):
        run.refresh_from_db()
        assert run.status == DestructionRun.Status.DRY_RUN


@pytest.mark.parametrize(
    "url",
    [
        "/retention/runs/99999999999999999999/",
        "/retention/minutes/99999999999999999999/",
        "/retention/minutes/99999999999999999999/pdf/",
        "/retention/policy/v99999999999999999999/",
        "/retention/policy/v99999999999999999999.pdf",
        "/retention/rules/%00/",
        "/retention/rules/nosuchcategory/",
    ],
)
def test_unknown_or_absurd_addresses_answer_not_found(owner, url):
    assert owner.get(url).status_code == 404


def test_the_same_forms_save_sound_input(owner, acme):
    """The refusals above are the input's doing: sound values in the same fields are saved."""
    owner.post(reverse("retention:rule", args=["contact"]), {**RULE, "confirm": "on"})
    owner.post(
        reverse("retention:settings"), {"interval_months": "3", "security_measures": "Şifreleme"}
    )
    owner.post(
        reverse("retention:holds"),
        {
            "scope": "reference",
            "reference": "D-1",
            "reason": "Dava",
            "ends_on": "2030-01-01",
            "owner": _owner_pk(acme),
        },
    )
    with tenant_context(acme):
        assert RetentionRule.objects.filter(category__code="contact", period=1).exists()
        assert RetentionSettings.objects.get().interval_months == 3
        assert LegalHold.objects.filter(reference="D-1").exists()
