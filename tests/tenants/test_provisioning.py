"""Provisioning is one call; a suspended controller serves nothing and gets no work done."""

import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_tenants.utils import schema_context, schema_exists, tenant_context

from accounts.models import Role, User
from audit.tasks import verify_chain
from config.errors import PortalError
from tenants.models import Domain, Tenant
from tenants.services import SLUG_RESERVED, tenant_provision, tenant_set_status
from tenants.validators import VKN_INVALID
from tests.conftest import in_thread, portal_client

PUBLIC = "config.urls_public"


def _as_owner(**data):
    """Provisioning runs as the owner role (its own connection, committed)."""
    return in_thread(lambda: tenant_provision(**data), role="owner")


def test_provisioning_creates_a_usable_controller(db):
    result = _as_owner(
        slug="initech",
        legal_name="Initech Yazılım A.Ş.",
        vkn="0010011238",
        admin_username="yonetici",
        admin_email="yonetici@initech.com.tr",
    )

    assert schema_exists("initech")
    assert Domain.objects.get(domain="initech.localhost").tenant == result.tenant
    assert result.seconds > 0
    with tenant_context(result.tenant):
        admin = User.objects.get(username="yonetici")
        assert admin.role == Role.CONTROLLER_ADMIN and not admin.has_usable_password()
    connection.set_schema_to_public()

    client = Client(HTTP_HOST="initech.localhost")
    path = result.invitation_url.split("initech.localhost", 1)[1].lstrip("0123456789:")
    assert (
        client.post(
            path, {"password1": "Initech-Parola-2026", "password2": "Initech-Parola-2026"}
        ).status_code
        == 302
    )
    login = client.post(
        reverse("accounts:login"), {"username": "yonetici", "password": "Initech-Parola-2026"}
    )
    assert login["Location"] == reverse("accounts:enroll")


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"vkn": "0010011239"}, VKN_INVALID), ({"slug": "admin"}, SLUG_RESERVED)],
)
def test_bad_provisioning_input_is_refused_and_leaves_nothing(db, changes, message):
    data = {
        "slug": "hooli",
        "legal_name": "Hooli A.Ş.",
        "vkn": "0010011238",
        "admin_username": "a",
        "admin_email": "a@hooli.com.tr",
        **changes,
    }

    with pytest.raises(PortalError) as refused:
        _as_owner(**data)

    assert str(refused.value) == str(message)
    assert not Tenant.objects.filter(slug=data["slug"]).exists()
    assert not schema_exists(data["slug"])


def test_the_runtime_role_cannot_provision(db):
    with pytest.raises(PortalError) as refused:
        tenant_provision(
            slug="sneaky",
            legal_name="Sneaky A.Ş.",
            vkn="0010011238",
            admin_username="a",
            admin_email="a@sneaky.com.tr",
        )
    assert refused.value.code == "needs_owner_role"
    assert not schema_exists("sneaky")


def test_taken_slug_is_refused(db):
    with pytest.raises(PortalError):
        _as_owner(
            slug="acme",
            legal_name="Kopya",
            vkn="0010011238",
            admin_username="a",
            admin_email="a@b.com.tr",
        )


def test_suspended_controller_serves_no_data(owner, acme):
    assert owner.get(reverse("accounts:staff")).status_code == 200

    tenant_set_status(tenant=acme, status=Tenant.Status.SUSPENDED, changed_by=None, reason="unpaid")

    for path in [
        "/",
        reverse("accounts:staff"),
        reverse("audit:entries"),
        reverse("accounts:login"),
    ]:
        response = owner.get(path)
        body = response.content.decode()
        assert response.status_code == 503, path
        assert "Bu çalışma alanı kullanılamıyor" in body
        assert "colleague" not in body


def test_suspended_controller_gets_no_background_work(acme):
    assert verify_chain.apply(kwargs={"schema_name": "acme"}).get()["schema"] == "acme"

    tenant_set_status(tenant=acme, status=Tenant.Status.SUSPENDED, changed_by=None)

    assert verify_chain.apply(kwargs={"schema_name": "acme"}).get() is None


def test_reactivated_controller_is_served_again(owner, acme):
    tenant_set_status(tenant=acme, status=Tenant.Status.SUSPENDED, changed_by=None)
    tenant_set_status(tenant=acme, status=Tenant.Status.ACTIVE, changed_by=None)
    assert owner.get("/").status_code == 200


@pytest.mark.worker
def test_platform_admin_provisions_from_django_admin(provisioning_worker, db):
    admin = portal_client(None, "root")
    url = reverse("admin:tenants_tenant_provision", urlconf=PUBLIC)
    assert admin.get(url).status_code == 200

    # when: the form is sent, the web process (runtime role) queues the job
    queued = admin.post(
        url,
        {
            "slug": "umbrella",
            "legal_name": "Umbrella Sağlık A.Ş.",
            "vkn": "4870091234",
            "language": "tr",
            "admin_username": "admin",
            "admin_email": "admin@umbrella.com.tr",
        },
    )
    assert queued.status_code == 302
    status_url = queued["Location"]

    # then: the provisioning worker (owner role) creates it; the page shows the link once
    deadline = time.monotonic() + 60
    while (response := admin.get(status_url)).status_code == 200 and time.monotonic() < deadline:
        assert "oluşturuluyor" in response.content.decode()
        time.sleep(0.3)
    assert response.status_code == 302
    done = admin.get(response["Location"])
    message = next(iter(done.context["messages"]))
    assert "umbrella.localhost" in str(message) and "/accounts/invitation/" in str(message)
    assert Tenant.objects.filter(slug="umbrella").exists() and schema_exists("umbrella")
    assert admin.get(status_url).status_code == 404  # shown once, kept nowhere


def test_admin_provision_form_refuses_a_taken_slug_before_queueing(db, acme):
    admin = portal_client(None, "root")
    response = admin.post(
        reverse("admin:tenants_tenant_provision", urlconf=PUBLIC),
        {
            "slug": "acme",
            "legal_name": "Kopya A.Ş.",
            "vkn": "4870091234",
            "language": "tr",
            "admin_username": "admin",
            "admin_email": "admin@kopya.com.tr",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["slug"]


def test_admin_provision_form_shows_errors_and_creates_nothing(db):
    admin = portal_client(None, "root")
    response = admin.post(
        reverse("admin:tenants_tenant_provision", urlconf=PUBLIC),
        {
            "slug": "bad",
            "legal_name": "Bad A.Ş.",
            "vkn": "0010011239",
            "language": "tr",
            "admin_username": "admin",
            "admin_email": "not-an-email",
        },
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) >= {"vkn", "admin_email"}
    assert not Tenant.objects.filter(slug="bad").exists()


def test_admin_suspends_a_controller_with_an_action(db, acme):
    admin = portal_client(None, "root")
    response = admin.post(
        reverse("admin:tenants_tenant_changelist", urlconf=PUBLIC),
        {"action": "suspend", "_selected_action": [acme.pk]},
    )
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.status == Tenant.Status.SUSPENDED


def test_admin_requires_a_verified_second_factor(db):
    unverified = portal_client(None, "root", verified=False)
    response = unverified.get("/admin/")
    assert response.status_code == 302
    assert reverse("accounts:verify") in response["Location"]


def test_tenant_staff_never_reach_the_admin(owner, acme):
    assert owner.get("/admin/").status_code == 404


def test_non_staff_public_user_is_refused_by_the_admin(db):
    with schema_context("public"):
        User.objects.filter(username="root").update(is_staff=False)
    response = portal_client(None, "root").get("/admin/", follow=True)
    assert response.status_code == 403
