"""No platform administration without a signed confidentiality undertaking in force (C5).

The session fixtures create no undertaking version: that is the platform's
bootstrap state, in which staff get in so the first version can be written,
and the admin tests elsewhere rely on it. Every test here that needs a version
creates it inside its own rolled-back transaction.
"""

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from audit.models import Action, AuditEntry
from config.errors import PortalError
from tenants.models import Undertaking, UndertakingVersion
from tenants.selectors import user_has_current_undertaking
from tenants.undertakings import UNDERTAKING_NOT_CURRENT, undertaking_sign
from tests.conftest import portal_client
from tests.factories import staff_create

PUBLIC = "config.urls_public"
ADMIN_INDEX = reverse("admin:index", urlconf=PUBLIC)
UNDERTAKING = reverse("undertaking", urlconf=PUBLIC)


def version_create(label: str, *, effective_from: date | None = None) -> UndertakingVersion:
    return UndertakingVersion.objects.create(
        version=label,
        title=f"Gizlilik taahhütnamesi {label}",
        text=f"Öğrendiğim kişisel verileri açıklamayacağım ({label}).",
        effective_from=effective_from or timezone.localdate(),
    )


@pytest.fixture
def root(db) -> User:
    return User.objects.get(username="root")


def test_platform_admin_without_a_signature_is_sent_to_sign(db):
    version_create("v1")
    admin = portal_client(None, "root")

    response = admin.get(ADMIN_INDEX, follow=True)

    assert response.redirect_chain[-1][0] == f"{UNDERTAKING}?next={ADMIN_INDEX}"
    assert response.status_code == 200
    page = response.content.decode()
    assert "Öğrendiğim kişisel verileri açıklamayacağım (v1)." in page
    assert "Okudum, imzalıyorum" in page
    assert admin.get(reverse("admin:tenants_tenant_changelist", urlconf=PUBLIC)).status_code == 302


def test_platform_admin_reaches_the_admin_after_signing(db, root):
    version = version_create("v1")
    admin = portal_client(None, "root")

    response = admin.post(UNDERTAKING, {"version": version.pk, "next": ADMIN_INDEX})

    assert response.status_code == 302
    assert response["Location"] == ADMIN_INDEX
    assert Undertaking.objects.get(user=root).version == version
    assert admin.get(ADMIN_INDEX).status_code == 200


def test_signed_admin_opening_the_undertaking_page_goes_straight_on(db, root):
    undertaking_sign(user=root, version=version_create("v1"))

    response = portal_client(None, "root").get(UNDERTAKING)

    assert response.status_code == 302
    assert response["Location"] == ADMIN_INDEX


def test_a_new_version_refuses_access_until_it_is_signed_again(db, root):
    # given: root signed v1, in force since last month
    v1 = version_create("v1", effective_from=timezone.localdate() - timedelta(days=30))
    undertaking_sign(user=root, version=v1)
    admin = portal_client(None, "root")
    assert admin.get(ADMIN_INDEX).status_code == 200

    # when: v2 takes effect today
    v2 = version_create("v2")

    # then: the v1 signature no longer counts
    assert not user_has_current_undertaking(root)
    refused = admin.get(ADMIN_INDEX, follow=True)
    assert refused.redirect_chain[-1][0].startswith(UNDERTAKING)
    admin.post(UNDERTAKING, {"version": v2.pk})
    assert admin.get(ADMIN_INDEX).status_code == 200
    assert set(root.undertakings.values_list("version__version", flat=True)) == {"v1", "v2"}


def test_a_version_takes_effect_on_its_date(db, root):
    undertaking_sign(user=root, version=version_create("v1", effective_from=date(2026, 1, 1)))
    version_create("v2", effective_from=date(2026, 7, 1))

    with time_machine.travel(date(2026, 6, 30), tick=False):
        assert user_has_current_undertaking(root)
    with time_machine.travel(date(2026, 7, 1), tick=False):
        assert not user_has_current_undertaking(root)


def test_signing_is_audited_once(db, root):
    version = version_create("v1")
    admin = portal_client(None, "root")

    admin.post(UNDERTAKING, {"version": version.pk}, REMOTE_ADDR="192.0.2.7")
    again = undertaking_sign(user=root, version=version)

    entries = AuditEntry.objects.filter(detail__event="undertaking_signed")
    assert entries.count() == 1
    entry = entries.get()
    assert (entry.action, entry.actor_id, entry.object_id) == (
        Action.CREATE,
        root.pk,
        str(again.pk),
    )
    assert entry.detail["version"] == "v1"
    assert again.ip_address == entry.ip_address == "192.0.2.7"


def test_an_outdated_version_cannot_be_signed(db, root):
    old = version_create("v1", effective_from=timezone.localdate() - timedelta(days=30))
    version_create("v2")

    with pytest.raises(PortalError) as refused:
        undertaking_sign(user=root, version=old)

    assert str(refused.value) == str(UNDERTAKING_NOT_CURRENT)
    assert not Undertaking.objects.filter(user=root).exists()


def test_posting_an_outdated_version_shows_the_error_and_signs_nothing(db, root):
    old = version_create("v1", effective_from=timezone.localdate() - timedelta(days=30))
    version_create("v2")

    response = portal_client(None, "root").post(UNDERTAKING, {"version": old.pk})

    assert response.status_code == 200
    assert response.context["version"].version == "v2"
    assert response.context["form"].non_field_errors() == [str(UNDERTAKING_NOT_CURRENT)]
    assert not Undertaking.objects.filter(user=root).exists()


def test_a_future_version_cannot_be_signed_ahead(db, root):
    future = version_create("v1", effective_from=timezone.localdate() + timedelta(days=7))

    with pytest.raises(PortalError):
        undertaking_sign(user=root, version=future)


def test_with_no_version_in_force_staff_get_in_to_write_the_first(db, root):
    version_create("v1", effective_from=timezone.localdate() + timedelta(days=7))

    assert user_has_current_undertaking(root)
    assert portal_client(None, "root").get(ADMIN_INDEX).status_code == 200


def test_a_signed_version_becomes_read_only_in_the_admin(db, root):
    version = version_create("v1")
    undertaking_sign(user=root, version=version)
    unsigned = version_create("v2", effective_from=timezone.localdate() + timedelta(days=7))
    admin = portal_client(None, "root")

    change = reverse("admin:tenants_undertakingversion_change", args=[version.pk], urlconf=PUBLIC)
    admin.post(change, {"version": "v1", "title": "Yeni", "text": "Değişti", "effective_from": ""})
    version.refresh_from_db()
    assert version.text.startswith("Öğrendiğim")
    assert admin.get(change).context["has_change_permission"] is False

    editable = reverse(
        "admin:tenants_undertakingversion_change", args=[unsigned.pk], urlconf=PUBLIC
    )
    assert admin.get(editable).context["has_change_permission"] is True


def test_staff_register_lists_signatures_read_only(db, root):
    undertaking_sign(user=root, version=version_create("v1"))
    admin = portal_client(None, "root")

    register = admin.get(reverse("admin:tenants_undertaking_changelist", urlconf=PUBLIC))
    users = admin.get(reverse("admin:accounts_user_changelist", urlconf=PUBLIC))

    assert register.status_code == 200
    assert [str(u) for u in register.context["cl"].result_list] == ["root · v1"]
    assert register.context["has_add_permission"] is False
    assert "v1" in users.content.decode()


def test_register_and_user_list_queries_do_not_grow_with_signatures(db, root):
    version = version_create("v1")
    undertaking_sign(user=root, version=version)
    admin = portal_client(None, "root")
    pages = [
        reverse("admin:tenants_undertaking_changelist", urlconf=PUBLIC),
        reverse("admin:accounts_user_changelist", urlconf=PUBLIC),
    ]

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin.get(path).status_code == 200
        return len(captured)

    before = [queries(path) for path in pages]
    for n in range(5):
        undertaking_sign(
            user=staff_create(schema="public", username=f"ops{n}", role=""), version=version
        )

    assert [queries(path) for path in pages] == before


def test_non_staff_public_user_cannot_open_the_undertaking_page(db):
    version_create("v1")
    User.objects.filter(username="root").update(is_staff=False)

    assert portal_client(None, "root").get(UNDERTAKING).status_code == 403


def test_undertaking_page_needs_a_verified_second_factor(db):
    version_create("v1")

    response = portal_client(None, "root", verified=False).get(UNDERTAKING)

    assert response.status_code == 302
    assert reverse("accounts:verify") in response["Location"]


def test_undertaking_page_does_not_exist_on_a_tenant_host(owner):
    assert owner.get(UNDERTAKING).status_code == 404
