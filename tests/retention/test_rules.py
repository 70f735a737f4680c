"""Retention rules per data category and the retention settings: controller admins keep
them, everyone else reads them, bad input changes nothing, and the interval is at most 6 months."""

import pytest
from django.urls import reverse
from django.utils import translation
from django_tenants.utils import tenant_context

from audit.models import AuditEntry
from config.errors import PortalError
from retention import services, starter
from retention.models import RetentionRule, RetentionSettings
from subjects.models import DataCategory

RULE = {
    "period": "3",
    "period_unit": "years",
    "event": "collected",
    "method": "destroy",
    "source": "controller",
    "legal_reference": "",
    "recipient_groups": "Kargo şirketleri",
}


def _tr(message) -> str:
    with translation.override("tr"):
        return str(message)


def _rule(code: str) -> str:
    return reverse("retention:rule", args=[code])


@pytest.mark.parametrize("member", ["owner", "colleague", "auditor"])
def test_every_member_sees_every_category_and_those_without_a_rule_are_flagged(
    member, request, acme
):
    client = request.getfixturevalue(member)

    page = client.get(reverse("retention:rules")).content.decode()

    assert 'id="rule-contact"' in page and 'id="rule-health"' in page
    assert "kendiliğinden imha edilmez" in page  # never destroyed automatically
    assert (reverse("retention:starter_adopt") in page) == (member == "owner")
    assert f'href="{reverse("subjects:inventory_categories", args=["contact"])}"' in page


def test_the_inventory_and_the_rules_link_to_each_other(auditor):
    inventory = auditor.get(reverse("subjects:inventory")).content.decode()
    category = auditor.get(reverse("subjects:inventory_categories", args=["contact"]))

    assert f'href="{reverse("retention:rules")}"' in inventory
    assert f'href="{_rule("contact")}"' in category.content.decode()


def test_an_admin_sets_a_rule_and_its_history_names_them(owner, acme):
    response = owner.post(_rule("contact"), RULE)

    assert response.status_code == 302
    with tenant_context(acme):
        rule = RetentionRule.objects.get(category__code="contact")
        assert (rule.period, rule.period_unit, rule.method) == (3, "years", "destroy")
        assert rule.recipient_groups == "Kargo şirketleri"
        assert rule.confirmed_at is None  # the controller's own choice waits for confirmation
        assert rule.history.get().history_user.username == "owner"
    page = owner.get(reverse("retention:rules")).content.decode()
    assert "onaylanacak" in page  # to be confirmed


def test_an_admin_confirms_the_controllers_own_choice(owner, acme):
    owner.post(_rule("contact"), RULE)

    owner.post(reverse("retention:rule_confirm", args=["contact"]))

    with tenant_context(acme):
        rule = RetentionRule.objects.get(category__code="contact")
        assert rule.confirmed_by.username == "owner"
        assert rule.history.count() == 2


def test_changing_a_confirmed_period_asks_for_confirmation_again(owner, acme):
    owner.post(_rule("contact"), {**RULE, "confirm": "on"})
    with tenant_context(acme):
        assert RetentionRule.objects.get(category__code="contact").confirmed_at is not None

    owner.post(_rule("contact"), {**RULE, "period": "4"})

    with tenant_context(acme):
        assert RetentionRule.objects.get(category__code="contact").confirmed_at is None


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"event": "named_date"}, "named_date", services.NAMED_DATE_REQUIRED),
        ({"source": "statute"}, "legal_reference", services.STATUTE_NEEDS_REFERENCE),
        ({"named_date": "2030-01-01"}, "named_date", services.NAMED_DATE_ONLY_FOR_NAMED_EVENT),
    ],
)
def test_a_rule_that_breaks_a_rule_is_refused_with_its_message_and_nothing_saved(
    owner, acme, change, field, message
):
    response = owner.post(_rule("contact"), {**RULE, **change})

    assert response.status_code == 200
    assert _tr(message) in response.content.decode()
    with tenant_context(acme):
        assert not RetentionRule.objects.filter(category__code="contact").exists()


def test_a_period_of_zero_is_refused(owner, acme):
    response = owner.post(_rule("contact"), {**RULE, "period": "0"})

    assert response.status_code == 200
    with tenant_context(acme):
        assert not RetentionRule.objects.exists()


def test_a_named_date_rule_needs_its_date_through_the_service_too(acme):
    with tenant_context(acme), pytest.raises(PortalError) as refused:
        services.retention_rule_save(
            category=DataCategory.objects.get(code="contact"),
            period=1,
            period_unit="years",
            event="named_date",
            method="destroy",
            source="controller",
            actor=None,
        )
    assert refused.value.field == "named_date"


@pytest.mark.parametrize("member", ["colleague", "auditor"])
def test_read_only_members_cannot_change_rules_or_settings(member, request, acme):
    client = request.getfixturevalue(member)

    assert client.get(_rule("contact")).status_code == 200
    assert client.post(_rule("contact"), RULE).status_code == 403
    assert client.post(reverse("retention:starter_adopt")).status_code == 403
    assert client.post(reverse("retention:settings"), {"interval_months": "3"}).status_code == 403
    with tenant_context(acme):
        assert not RetentionRule.objects.exists()
        assert services.retention_settings_get().interval_months == 6


def test_the_default_interval_is_the_six_month_maximum_and_reading_it_stores_nothing(owner, acme):
    page = owner.get(reverse("retention:settings")).content.decode()

    assert 'value="6"' in page
    with tenant_context(acme):
        assert not RetentionSettings.objects.exists()
        assert services.retention_settings_get().interval_months == 6


def test_an_admin_sets_the_interval_automatic_execution_and_security_measures(owner, acme):
    response = owner.post(
        reverse("retention:settings"),
        {"interval_months": "3", "auto_execute": "on", "security_measures": "Şifreleme"},
    )

    assert response.status_code == 302
    with tenant_context(acme):
        found = RetentionSettings.objects.get()
        assert (found.interval_months, found.auto_execute) == (3, True)
        assert found.security_measures == "Şifreleme"
        assert found.history.latest("history_date").history_user.username == "owner"


def test_a_seven_month_interval_is_refused_through_the_form_naming_the_maximum(owner, acme):
    response = owner.post(reverse("retention:settings"), {"interval_months": "7"})

    assert response.status_code == 200
    page = response.content.decode()
    assert _tr(services.INTERVAL_TOO_LONG % {"max": 6}) in page
    assert "en fazla 6 ay" in page and "11(2)" in page
    with tenant_context(acme):
        assert services.retention_settings_get().interval_months == 6


def test_a_seven_month_interval_is_refused_by_the_service(acme):
    with tenant_context(acme):
        with pytest.raises(PortalError) as refused:
            services.retention_settings_update(
                interval_months=7, auto_execute=False, security_measures="", actor=None
            )
        assert refused.value.field == "interval_months"
        assert "6" in str(refused.value.message)
        assert services.retention_settings_get().interval_months == 6


def test_the_starter_set_adds_turkish_categories_and_rules_with_their_sources(owner, acme):
    response = owner.post(reverse("retention:starter_adopt"))

    assert response.status_code == 302
    with tenant_context(acme):
        ttk = RetentionRule.objects.get(category__code="commercial_records")
        assert ttk.category.name == "Ticari defter ve kayıtlar"
        assert (ttk.period, ttk.period_unit, ttk.source) == (10, "years", "statute")
        assert "6102" in ttk.legal_reference and "m. 82" in ttk.legal_reference
        vuk = RetentionRule.objects.get(category__code="tax_records")
        assert (vuk.period, vuk.legal_reference) == (5, "213 sayılı Vergi Usul Kanunu m. 253")
        cctv = RetentionRule.objects.get(category__code="cctv")
        assert (cctv.period, cctv.period_unit, cctv.source) == (30, "days", "controller")
        assert cctv.confirmed_at is None
        marketing = RetentionRule.objects.get(category__code="marketing")
        assert (marketing.period, marketing.event) == (2, "last_used")
        assert RetentionRule.objects.count() == len(starter.STARTER_RULES)


def test_adopting_the_starter_set_twice_changes_nothing_and_keeps_existing_rules(owner, acme):
    owner.post(_rule("marketing"), {**RULE, "period": "6", "period_unit": "months"})
    owner.post(reverse("retention:starter_adopt"))
    with tenant_context(acme):
        before = {r.category.code: r.history.count() for r in RetentionRule.objects.all()}
        categories = DataCategory.objects.count()

    owner.post(reverse("retention:starter_adopt"))

    with tenant_context(acme):
        after = {r.category.code: r.history.count() for r in RetentionRule.objects.all()}
        assert after == before
        assert DataCategory.objects.count() == categories
        marketing = RetentionRule.objects.get(category__code="marketing")
        assert (marketing.period, marketing.period_unit) == (6, "months")


def test_every_statutory_starter_period_cites_its_provision():
    for entry in starter.STARTER_RULES:
        assert (entry.source == "statute") == bool(entry.legal_reference), entry.code


def test_globex_never_sees_acmes_rules(owner, outsider, globex):
    owner.post(_rule("contact"), {**RULE, "recipient_groups": "Acme'nin alıcıları"})

    page = outsider.get(reverse("retention:rules")).content.decode()

    assert "Acme&#x27;nin alıcıları" not in page and "Acme'nin alıcıları" not in page
    assert 'id="rule-contact"' in page  # globex's own category, without acme's rule
    with tenant_context(globex):
        assert not RetentionRule.objects.exists()


def test_the_rules_page_reads_each_kind_once_however_many_categories(
    owner, acme, django_assert_max_num_queries
):
    owner.post(reverse("retention:starter_adopt"))
    with django_assert_max_num_queries(12):
        assert owner.get(reverse("retention:rules")).status_code == 200


def test_categories_the_starter_set_adds_are_logged_like_an_admins(owner, acme):
    owner.post(reverse("retention:starter_adopt"))

    with tenant_context(acme):
        logged = AuditEntry.objects.filter(detail__event="inventory_changed", actor_label="owner")
        assert sorted(entry.detail["code"] for entry in logged) == sorted(
            entry.code
            for entry in starter.STARTER_RULES
            if entry.code
            not in {"identity", "contact", "customer_transaction", "marketing", "location"}
        )
        assert DataCategory.objects.get(code="cctv").history.get().history_user.username == "owner"
