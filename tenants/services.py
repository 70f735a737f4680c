"""Provisioning and lifecycle of data controllers (veri sorumlusu).

All of it runs in the public schema; what has to happen inside the new
controller's schema (its first admin) is done in an explicit tenant context.
"""

import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tenants.utils import schema_context, tenant_context

from accounts.models import Role, User
from accounts.services import staff_user_invite
from audit.models import Action
from audit.services import audit_entry_create
from config.errors import PortalError
from subjects.crypto import tenant_key_create
from subjects.inventory import inventory_starter_create
from tenants.models import Domain, Tenant

RESERVED_SLUGS = frozenset({"public", "www", "admin", "api", "static", "media", "platform", "mail"})
SLUG_RESERVED = _("This slug is reserved; choose another.")
SLUG_TAKEN = _("A controller with this slug already exists.")
NEEDS_OWNER_ROLE = _(
    "Provisioning needs the database owner role; it runs on the provisioning worker "
    "(or with PORTAL_DB_ROLE=owner on the command line)."
)
STATUS_UNCHANGED = _("The controller already has this status.")
DESTROYED_IS_FINAL = _("A destroyed controller cannot change status.")
DESTROYED_ONLY_BY_SCAN = _(
    "A controller is destroyed only by the contract-end scan, once its grace period is over."
)


@dataclass(frozen=True)
class Provisioned:
    tenant: Tenant
    admin: User
    invitation_url: str
    seconds: float


def platform_ensure() -> Tenant:
    """The public schema's own row and the platform host; idempotent."""
    with schema_context("public"):
        platform, _created = Tenant.objects.get_or_create(
            schema_name="public",
            defaults={"slug": "platform", "legal_name": "KVKK Portal"},
        )
        Domain.objects.get_or_create(
            domain=settings.PORTAL_BASE_DOMAIN, defaults={"tenant": platform, "is_primary": True}
        )
    return platform


def tenant_slug_check(*, slug: str) -> str:
    """The normalised slug, or PortalError when it is reserved or taken (before queueing)."""
    slug = slug.strip().lower()
    if slug in RESERVED_SLUGS:
        raise PortalError(SLUG_RESERVED, code="slug_reserved", field="slug")
    with schema_context("public"):
        if Tenant.objects.filter(slug=slug).exists():
            raise PortalError(SLUG_TAKEN, code="slug_taken", field="slug")
    return slug


def _can_create_schemas() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_database_privilege(current_database(), 'CREATE')")
        return cursor.fetchone()[0]


def tenant_provision(
    *,
    slug: str,
    legal_name: str,
    vkn: str,
    admin_username: str,
    admin_email: str,
    admin_first_name: str = "",
    admin_last_name: str = "",
    provisioned_by: User | None = None,
    **details,
) -> Provisioned:
    """Create a controller: its row, schema, host and first admin with an invitation link.

    Everything happens in one transaction: a failure anywhere leaves no
    schema, no row and no host behind.
    """
    started = time.perf_counter()
    slug = tenant_slug_check(slug=slug)
    with schema_context("public"), transaction.atomic():
        if not _can_create_schemas():
            raise PortalError(NEEDS_OWNER_ROLE, code="needs_owner_role")
        if Tenant.objects.filter(slug=slug).exists():
            raise PortalError(SLUG_TAKEN, code="slug_taken", field="slug")
        tenant = Tenant(schema_name=slug, slug=slug, legal_name=legal_name, vkn=vkn, **details)
        try:
            tenant.full_clean(validate_unique=False)
        except ValidationError as exc:
            field, errors = next(iter(exc.message_dict.items()))
            raise PortalError(" ".join(errors), code="invalid", field=field) from exc
        tenant.save(verbosity=0)  # creates and migrates the schema
        Domain.objects.create(domain=tenant.host, tenant=tenant, is_primary=True)
        audit_entry_create(
            action=Action.TENANT_CHANGE,
            actor=provisioned_by,
            target=tenant,
            detail={"event": "provisioned", "schema": tenant.schema_name},
        )
        with tenant_context(tenant):
            tenant_key_create()
            inventory_starter_create(language=tenant.language)
            admin, raw = staff_user_invite(
                username=admin_username,
                email=admin_email,
                first_name=admin_first_name,
                last_name=admin_last_name,
                role=Role.CONTROLLER_ADMIN,
                invited_by=None,
            )
    url = f"{tenant.base_url}/accounts/invitation/{raw}/"
    return Provisioned(tenant, admin, url, time.perf_counter() - started)


@transaction.atomic
def tenant_set_status(
    *,
    tenant: Tenant,
    status: Tenant.Status,
    changed_by: User | None,
    reason: str = "",
    now: datetime | None = None,
) -> Tenant:
    """Suspend, reactivate or mark a controller's contract as ended.

    Ending the contract starts the grace period (read-only service, then destruction:
    tenants.contract); reactivating ends it. Only tenants.contract.contract_destroy
    sets a controller destroyed.
    """
    with schema_context("public"):
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if tenant.status == Tenant.Status.DESTROYED:
            raise PortalError(DESTROYED_IS_FINAL, code="destroyed")
        if status == Tenant.Status.DESTROYED:
            raise PortalError(DESTROYED_ONLY_BY_SCAN, code="destroyed_only_by_scan")
        if tenant.status == status:
            raise PortalError(STATUS_UNCHANGED, code="status_unchanged")
        before = tenant.status
        tenant.status = status
        if status == Tenant.Status.CONTRACT_ENDED:
            tenant.contract_ended_at = now or timezone.now()
        elif status == Tenant.Status.ACTIVE:
            tenant.contract_ended_at = None
        tenant.save(update_fields=["status", "contract_ended_at"])
        audit_entry_create(
            action=Action.TENANT_CHANGE,
            actor=changed_by,
            target=tenant,
            detail={"before": before, "after": str(status), "reason": reason},
        )
    return tenant
