"""The inventory page: every member reads it, controller admins keep it, outsiders never see it."""

import pytest
from django.urls import reverse
from django.utils import translation
from django_tenants.utils import tenant_context

from accounts.models import User
from audit.models import Action, AuditEntry
from config.errors import PortalError
from subjects import inventory
from subjects.models import DataCategory, ProcessingPurpose, SubjectGroup
from tests.subjects.conftest import subject_record


def _tr(message) -> str:
    with translation.override("tr"):
        return str(message)


def _entry(section: str, code: str) -> str:
    return reverse(f"subjects:inventory_{section}", args=[code])


@pytest.mark.parametrize("member", ["owner", "colleague", "auditor"])
def test_every_member_reads_the_inventory(member, request, acme):
    client = request.getfixturevalue(member)

    page = client.get(reverse("subjects:inventory")).content.decode()

    for code in ("customer", "contact", "health", "customer_service"):
        assert f"<code>{code}</code>" in page
    assert "Sağlık" in page and "İşleme amaçları" in page and "<th>Ad</th>" in page
    adds = reverse("subjects:inventory_categories_new") in page
    assert adds == (member == "owner")


def test_the_register_links_to_the_inventory(auditor):
    page = auditor.get(reverse("subjects:index")).content.decode()
    assert f'href="{reverse("subjects:inventory")}"' in page


def test_the_page_reads_each_kind_once_however_large_the_inventory(
    owner, acme, django_assert_max_num_queries
):
    with tenant_context(acme):
        DataCategory.objects.bulk_create(
            DataCategory(code=f"extra_{n}", name=f"Ek {n}") for n in range(30)
        )
    with django_assert_max_num_queries(12):
        assert owner.get(reverse("subjects:inventory")).status_code == 200


def test_an_admin_adds_a_category_and_the_register_accepts_data_in_it(owner, acme, api):
    response = owner.post(
        reverse("subjects:inventory_categories_new"),
        {"code": "shoe_size", "name": "Ayakkabı numarası", "special_category": ""},
    )

    assert response.status_code == 302
    with tenant_context(acme):
        category = DataCategory.objects.get(code="shoe_size")
        entry = AuditEntry.objects.filter(action=Action.CREATE).latest("id")
        assert (entry.object_id, entry.detail["event"]) == (str(category.pk), "inventory_changed")
        assert entry.actor_label == "owner"
        assert category.history.get().history_user.username == "owner"
    record = subject_record()
    record["items"][0]["category"] = "shoe_size"
    assert api.post(reverse("api:subject_upsert"), record).status_code == 201


def test_a_deactivated_purpose_takes_no_new_data_and_its_history_shows_the_change(owner, acme, api):
    response = owner.post(
        _entry("purposes", "marketing"), {"name": "Pazarlama (durduruldu)", "is_active": ""}
    )

    assert response.status_code == 302
    record = subject_record()
    record["items"][0]["purpose"] = "marketing"
    refused = api.post(reverse("api:subject_upsert"), record)
    assert refused.status_code == 400
    assert "items[0].purpose" in refused.json()["error"]["fields"]
    page = owner.get(_entry("purposes", "marketing")).content.decode()
    history = page.split('id="inventory-history"', 1)[1]
    assert history.index("Değiştirildi") < history.index("Oluşturuldu")
    assert "Pazarlama (durduruldu)" in history and "owner" in history


def test_a_code_stays_what_it_was_created_as(owner, acme):
    owner.post(_entry("groups", "visitor"), {"code": "guest", "name": "Misafirler"})
    with tenant_context(acme):
        group = SubjectGroup.objects.get(code="visitor")
        assert group.name == "Misafirler"
        assert not SubjectGroup.objects.filter(code="guest").exists()


def test_a_taken_or_malformed_code_is_refused_and_nothing_changes(owner, acme):
    with tenant_context(acme):
        before = SubjectGroup.objects.count()
    for code in ("customer", "iki kelime", "müşteri"):
        response = owner.post(
            reverse("subjects:inventory_groups_new"), {"code": code, "name": "Başka"}
        )
        assert response.status_code == 200 and response.context["form"].errors["code"], code
    with tenant_context(acme):
        assert SubjectGroup.objects.count() == before


def test_a_category_in_use_cannot_turn_special_or_back(owner, acme, api):
    api.post(reverse("api:subject_upsert"), subject_record())  # an item in "contact"

    response = owner.post(
        _entry("categories", "contact"), {"name": "İletişim", "special_category": "health"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["special_category"] == [
        _tr(inventory.SPECIAL_FLAG_IN_USE)
    ]
    with tenant_context(acme):
        assert not DataCategory.objects.get(code="contact").is_special
        # an unused one may, and a special one may change its kind
        owner.post(_entry("categories", "location"), {"name": "Konum", "special_category": "race"})
        owner.post(
            _entry("categories", "health"), {"name": "Sağlık", "special_category": "genetic"}
        )
        assert DataCategory.objects.get(code="location").special_category == "race"
        assert DataCategory.objects.get(code="health").special_category == "genetic"


@pytest.mark.parametrize("member", ["colleague", "auditor"])
def test_other_members_read_an_entry_but_cannot_change_it(member, request, acme):
    client = request.getfixturevalue(member)

    page = client.get(_entry("categories", "health"))
    change = client.post(_entry("categories", "health"), {"name": "X", "special_category": ""})
    add = client.get(reverse("subjects:inventory_categories_new"))

    assert page.status_code == 200 and page.context["form"] is None
    assert "<form" not in page.content.decode().split("<main", 1)[1].split("</main>")[0]
    assert (change.status_code, add.status_code) == (403, 403)
    with tenant_context(acme):
        assert DataCategory.objects.get(code="health").name == "Sağlık"


def test_an_entry_of_another_controller_is_not_found(owner, outsider, acme):
    owner.post(
        reverse("subjects:inventory_categories_new"),
        {"code": "acme_only", "name": "Yalnız Acme", "special_category": ""},
    )

    assert outsider.get(_entry("categories", "acme_only")).status_code == 404
    assert outsider.post(_entry("categories", "acme_only"), {"name": "X"}).status_code == 404
    assert "acme_only" not in outsider.get(reverse("subjects:inventory")).content.decode()


def test_the_services_check_what_they_store(acme):
    with tenant_context(acme):
        admin = User.objects.get(username="owner")
        with pytest.raises(PortalError) as refused:
            inventory.processing_purpose_create(code="iki kelime", name="X", actor=admin)
        assert refused.value.field == "code"
        purpose = inventory.processing_purpose_create(code="survey", name="Anket", actor=admin)
        inventory.processing_purpose_update(
            purpose=purpose, name="Anketler", is_active=False, actor=admin
        )
        assert ProcessingPurpose.objects.get(code="survey").history.count() == 2
        updated = AuditEntry.objects.filter(action=Action.UPDATE).latest("id")
        assert updated.detail["fields"] == ["name", "is_active"]
