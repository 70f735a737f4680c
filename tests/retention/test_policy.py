"""The storage-and-destruction policy: rendered from the inventory in Turkish, versioned on
every change, old versions readable and printable as they were."""

import subprocess

import pytest
from django.urls import reverse
from django_tenants.utils import tenant_context

from accounts.models import User
from retention import services
from retention.models import PolicyVersion
from subjects.models import DataCategory

RULE = {
    "period": "3",
    "period_unit": "years",
    "event": "collected",
    "method": "anonymise",
    "source": "statute",
    "legal_reference": "6102 sayılı TTK m. 82",
    "recipient_groups": "Bağımsız denetçiler",
    "transferred_abroad": "on",
}


def _text_of(pdf: bytes) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode()


@pytest.mark.parametrize("member", ["owner", "colleague", "auditor"])
def test_every_member_reads_the_policy_in_turkish(member, request, acme):
    page = request.getfixturevalue(member).get(reverse("retention:policy")).content.decode()

    assert "Kişisel veri saklama ve imha politikası" in page
    assert "Acme Perakende A.Ş." in page
    assert "Müşteriler" in page  # a subject group of the inventory
    assert "6 ayda bir" in page  # the periodic-destruction interval


def test_the_policy_states_rules_sources_methods_and_the_anonymisation_rule_per_field(owner, acme):
    owner.post(reverse("retention:rule", args=["contact"]), RULE)
    with tenant_context(acme):
        services.retention_settings_update(
            interval_months=4, auto_execute=False, security_measures="Erişim kayıtları", actor=None
        )

    page = owner.get(reverse("retention:policy")).content.decode()

    assert "6102 sayılı TTK m. 82" in page and "Bağımsız denetçiler" in page
    assert "Anonim hâle getir" in page  # the method
    assert "<code>collected_at</code>" in page  # FIELD_RULES, field by field
    assert "4 ayda bir" in page and "Erişim kayıtları" in page
    assert "kendiliğinden imha edilmez" in page  # a category without a rule says so


def test_a_change_makes_a_new_version_and_the_old_one_stays_as_it_was(owner, acme):
    owner.get(reverse("retention:policy"))
    with tenant_context(acme):
        first = PolicyVersion.objects.get()
        first_html = first.html

    owner.post(reverse("retention:rule", args=["contact"]), RULE)
    page = owner.get(reverse("retention:policy")).content.decode()

    with tenant_context(acme):
        assert PolicyVersion.objects.count() == 2
        latest = PolicyVersion.objects.order_by("-number").first()
        assert latest.number == 2 and latest.created_by.username == "owner"
        assert PolicyVersion.objects.get(number=1).html == first_html
        assert "Bağımsız denetçiler" in latest.html and "Bağımsız denetçiler" not in first_html
    assert "Sürüm 2" in page
    old = owner.get(reverse("retention:policy_version", args=[1])).content.decode()
    assert "Sürüm 1" in old and "Önceki bir sürüm" in old
    assert "Bağımsız denetçiler" not in old


def test_opening_the_policy_again_without_a_change_makes_no_new_version(auditor, acme):
    auditor.get(reverse("retention:policy"))
    auditor.get(reverse("retention:policy"))

    with tenant_context(acme):
        assert PolicyVersion.objects.count() == 1


def test_an_inventory_change_shows_in_the_next_version(owner, acme):
    owner.get(reverse("retention:policy"))
    owner.post(
        reverse("subjects:inventory_categories_new"),
        {"code": "shoe_size", "name": "Ayakkabı numarası", "special_category": ""},
    )

    page = owner.get(reverse("retention:policy")).content.decode()

    assert "Ayakkabı numarası" in page
    with tenant_context(acme):
        assert PolicyVersion.objects.count() == 2


def test_the_pdf_of_each_version_holds_its_turkish_text(owner, acme):
    owner.get(reverse("retention:policy"))
    owner.post(reverse("retention:rule", args=["contact"]), RULE)
    owner.get(reverse("retention:policy"))

    first = owner.get(reverse("retention:policy_pdf", args=[1]))
    second = owner.get(reverse("retention:policy_pdf", args=[2]))

    assert first["Content-Type"] == "application/pdf"
    assert "saklama-ve-imha-politikasi-v1.pdf" in first["Content-Disposition"]
    text_1, text_2 = _text_of(first.content), _text_of(second.content)
    assert "Kişisel veri saklama ve imha politikası" in text_1
    assert "İlgili kişi grupları" in text_1 and "Güvenlik tedbirleri" in text_1
    assert "Bağımsız" in text_2 and "Bağımsız" not in text_1  # a table cell may wrap


def test_a_version_of_another_controller_is_not_found(owner, outsider, acme):
    owner.get(reverse("retention:policy"))
    owner.post(reverse("retention:rule", args=["contact"]), RULE)
    owner.get(reverse("retention:policy"))

    assert outsider.get(reverse("retention:policy_version", args=[2])).status_code == 404
    page = outsider.get(reverse("retention:policy")).content.decode()
    assert "Globex" in page and "Acme" not in page and "Bağımsız denetçiler" not in page


def test_policy_versions_are_numbered_one_after_another(acme):
    with tenant_context(acme):
        admin = User.objects.get(username="owner")
        first = services.policy_refresh(actor=admin)
        DataCategory.objects.create(code="extra", name="Ek kategori")
        second = services.policy_refresh(actor=admin)
        assert (first.number, second.number) == (1, 2)
        assert services.policy_refresh(actor=admin).number == 2


def test_confirming_the_controllers_own_choice_makes_a_new_version(owner, acme):
    owner.post(reverse("retention:rule", args=["contact"]), {**RULE, "source": "controller"})
    before = owner.get(reverse("retention:policy")).content.decode()
    assert "onaylanacak" in before

    owner.post(reverse("retention:rule_confirm", args=["contact"]))

    after = owner.get(reverse("retention:policy")).content.decode()
    assert "onaylanacak" not in after.split("Azami saklama süreleri")[1].split("</table>")[0]
    with tenant_context(acme):
        assert PolicyVersion.objects.order_by("-number").first().created_by.username == "owner"


def test_the_policy_page_reads_each_kind_once_however_many_versions(
    owner, acme, django_assert_max_num_queries
):
    for number in range(5):
        owner.post(reverse("retention:rule", args=["contact"]), {**RULE, "period": str(number + 1)})
    owner.get(reverse("retention:policy"))
    with django_assert_max_num_queries(24):
        assert owner.get(reverse("retention:policy")).status_code == 200
