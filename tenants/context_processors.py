from django.db import connection

from accounts.access import AUDIT_READERS
from accounts.models import Role


def portal(request) -> dict:
    """What the base layout needs: where we are and what the user may open."""
    user = getattr(request, "user", None)
    role = getattr(user, "role", "") if user is not None and user.is_authenticated else ""
    return {
        "portal_tenant": getattr(request, "tenant", None),
        "portal_is_public": connection.schema_name == "public",
        "portal_role": role,
        "portal_role_label": Role(role).label if role else "",
        "portal_can_manage_staff": role == Role.CONTROLLER_ADMIN,
        "portal_can_read_audit": role in AUDIT_READERS,
    }
