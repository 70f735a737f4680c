"""Legal holds: controller admins place them by subject, category or reference and release
them; everyone else reads; bad input is refused with its message and nothing is saved."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django_tenants.utils import tenant_context

from accounts.models import User
from audit.models import AuditEntry
from retention import services
from retention.models import LegalHold
from retention.views import holds as hold_views
from subjects.models import DataCategory
from tests.subjects.conftest import TCKN_AYSE, subject_record


def _tr(message) -> str:
    with translation.override("tr"):
        return str(message)


def _future(days: int = 30) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def _owner_id(tenant, username: str = "colleague") -> str:
    with tenant_context(tenant):
        return str(User.objects.get(username=username).pk)


def _hold(tenant, **fields) -> dict:
    return {
        "scope": "reference",
        "reference": "İstanbul 3. Asliye Ticaret 2026/123 E.",
        "reason": "Dava süresince deliller saklanır.",
        "owner": _owner_id(tenant),
        "ends_on": _future(),
        **fields,
    }


@pytest.fixture
def subject_uuid(api) -> str:
    return api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]


def test_an_admin_holds_a_subject_by_its_reference(owner, acme, subject_uuid):
    response = owner.post(
        reverse("retention:holds"), _hold(acme, scope="subject", subject_ref=subject_uuid)
    )

    assert response.status_code == 302
    with tenant_context(acme):
        hold = LegalHold.objects.get()
        assert (hold.scope, str(hold.subject.uuid), hold.owner.username) == (
            "subject",
            subject_uuid,
            "colleague",
        )
        assert hold.history.get().history_user.username == "owner"
        entry = AuditEntry.objects.filter(detail__event="legal_hold_created").get()
        assert entry.subject_ref == subject_uuid
    page = owner.get(reverse("retention:holds")).content.decode()
    assert subject_uuid in page.split('id="holds-active"')[1].split("</table>")[0]


def test_an_admin_holds_a_subject_found_by_a_posted_identifier_never_shown_back(
    owner, acme, subject_uuid
):
    response = owner.post(
        reverse("retention:holds"), _hold(acme, scope="subject", identifier=TCKN_AYSE)
    )

    assert response.status_code == 302
    with tenant_context(acme):
        assert str(LegalHold.objects.get().subject.uuid) == subject_uuid
    assert TCKN_AYSE not in response.url


def test_an_unknown_identifier_is_refused_and_not_echoed(owner, acme, subject_uuid):
    response = owner.post(
        reverse("retention:holds"), _hold(acme, scope="subject", identifier="12345678950")
    )

    page = response.content.decode()
    assert response.status_code == 200 and _tr(hold_views.NO_MATCH) in page
    assert "12345678950" not in page
    with tenant_context(acme):
        assert not LegalHold.objects.exists()


def test_an_admin_holds_a_category_and_a_litigation_reference(owner, acme):
    with tenant_context(acme):
        category = DataCategory.objects.get(code="contact")

    owner.post(reverse("retention:holds"), _hold(acme, scope="category", category=category.pk))
    owner.post(reverse("retention:holds"), _hold(acme))

    with tenant_context(acme):
        assert sorted(LegalHold.objects.values_list("scope", flat=True)) == [
            "category",
            "reference",
        ]
        assert LegalHold.objects.get(scope="category").category == category


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"ends_on": "2020-01-01"}, services.HOLD_ENDS_IN_PAST),
        ({"reference": "  "}, services.HOLD_NEEDS_REFERENCE),
        ({"scope": "category"}, services.HOLD_NEEDS_CATEGORY),
        ({"scope": "subject"}, hold_views.SUBJECT_NOT_CHOSEN),
        (
            {"scope": "subject", "subject_ref": "7d9a3f7e-0000-4000-8000-000000000000"},
            hold_views.NO_SUCH_SUBJECT,
        ),
    ],
)
def test_a_hold_missing_what_it_needs_is_refused_with_its_message(owner, acme, fields, message):
    response = owner.post(reverse("retention:holds"), _hold(acme, **fields))

    assert response.status_code == 200
    assert _tr(message) in response.content.decode()
    with tenant_context(acme):
        assert not LegalHold.objects.exists()


def test_a_hold_ending_today_is_refused_by_the_service(acme):
    with tenant_context(acme):
        admin = User.objects.get(username="owner")
        with pytest.raises(services.PortalError) as refused:
            services.legal_hold_create(
                scope="reference",
                reference="BSV-2026-000001",
                reason="Başvuru",
                owner=admin,
                ends_on=timezone.localdate(),
                actor=admin,
            )
        assert refused.value.field == "ends_on"
        assert not LegalHold.objects.exists()


def test_an_admin_releases_a_hold_and_it_moves_to_the_ended_ones(owner, acme):
    owner.post(reverse("retention:holds"), _hold(acme))
    with tenant_context(acme):
        hold = LegalHold.objects.get()

    response = owner.post(reverse("retention:hold_release", args=[hold.pk]))

    assert response.status_code == 302
    with tenant_context(acme):
        hold.refresh_from_db()
        assert hold.released_at is not None
        assert AuditEntry.objects.filter(detail__event="legal_hold_released").count() == 1
    page = owner.get(reverse("retention:holds")).content.decode()
    ended = page.split('id="holds-ended"')[1].split("</table>")[0]
    assert "2026/123 E." in ended


def test_releasing_twice_changes_nothing(owner, acme):
    owner.post(reverse("retention:holds"), _hold(acme))
    with tenant_context(acme):
        hold = LegalHold.objects.get()
    owner.post(reverse("retention:hold_release", args=[hold.pk]))
    with tenant_context(acme):
        released_at = LegalHold.objects.get().released_at

    owner.post(reverse("retention:hold_release", args=[hold.pk]))

    with tenant_context(acme):
        assert LegalHold.objects.get().released_at == released_at


@pytest.mark.parametrize("member", ["colleague", "auditor"])
def test_read_only_members_see_holds_but_cannot_place_or_release_them(member, request, owner, acme):
    owner.post(reverse("retention:holds"), _hold(acme))
    with tenant_context(acme):
        hold = LegalHold.objects.get()
    client = request.getfixturevalue(member)

    page = client.get(reverse("retention:holds")).content.decode()

    assert "2026/123 E." in page and reverse("retention:hold_release", args=[hold.pk]) not in page
    assert client.post(reverse("retention:holds"), _hold(acme)).status_code == 403
    assert client.post(reverse("retention:hold_release", args=[hold.pk])).status_code == 403
    with tenant_context(acme):
        assert LegalHold.objects.count() == 1 and LegalHold.objects.get().released_at is None


def test_globex_never_sees_or_releases_acmes_holds(owner, outsider, acme, globex):
    owner.post(reverse("retention:holds"), _hold(acme))
    with tenant_context(acme):
        hold = LegalHold.objects.get()

    page = outsider.get(reverse("retention:holds")).content.decode()

    assert "2026/123 E." not in page
    assert outsider.post(reverse("retention:hold_release", args=[hold.pk])).status_code == 404
    with tenant_context(acme):
        assert LegalHold.objects.get().released_at is None


def test_an_identifier_in_an_incomplete_form_is_not_echoed(owner, acme):
    response = owner.post(
        reverse("retention:holds"),
        _hold(acme, scope="subject", identifier=TCKN_AYSE, reason=""),
    )

    assert response.status_code == 200 and TCKN_AYSE not in response.content.decode()


def test_the_holds_page_reads_each_kind_once_however_many_holds(
    owner, acme, django_assert_max_num_queries
):
    for number in range(20):
        owner.post(reverse("retention:holds"), _hold(acme, reference=f"BSV-2026-{number:06}"))
    with django_assert_max_num_queries(16):
        assert owner.get(reverse("retention:holds")).status_code == 200


def test_a_subjects_page_leads_an_admin_to_a_hold_form_naming_the_subject(owner, subject_uuid):
    page = owner.get(reverse("subjects:detail", args=[subject_uuid])).content.decode()
    link = f"{reverse('retention:holds')}?subject={subject_uuid}"
    assert f'href="{link}"' in page

    form = owner.get(link).content.decode()

    assert f'value="{subject_uuid}"' in form
