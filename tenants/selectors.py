from django.db.models import QuerySet

from tenants.models import Tenant


def operational_tenants() -> QuerySet[Tenant]:
    """Controllers that are served and get background work done."""
    return Tenant.objects.exclude(schema_name="public").filter(status=Tenant.Status.ACTIVE)
