from django.db import connection

from accounts.access import AUDIT_READERS
from accounts.models import Role
from tenants.contract import read_only_message


def portal(request) -> dict:
    """What the base layout needs: where we are and what the user may open."""
    user = getattr(request, "user", None)
    role = getattr(user, "role", "") if user is not None and user.is_authenticated else ""
    tenant = getattr(request, "tenant", None)
    read_only = tenant is not None and connection.schema_name != "public" and tenant.is_read_only
    return {
        "portal_tenant": tenant,
        # The banner on every page while the controller is read-only after its contract ended.
        "portal_contract_notice": read_only_message(tenant) if read_only else "",
        "portal_is_public": connection.schema_name == "public",
        "portal_role": role,
        "portal_role_label": Role(role).label if role else "",
        "portal_can_manage_staff": role == Role.CONTROLLER_ADMIN,
        "portal_can_read_audit": role in AUDIT_READERS,
    }
