from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from tenants.models import Tenant, Undertaking, UndertakingVersion


def operational_tenants() -> QuerySet[Tenant]:
    """Controllers that are served and get background work done."""
    return Tenant.objects.exclude(schema_name="public").filter(status=Tenant.Status.ACTIVE)


def undertaking_version_current() -> UndertakingVersion | None:
    """The confidentiality undertaking in force today (Europe/Istanbul), if any."""
    return (
        UndertakingVersion.objects.filter(effective_from__lte=timezone.localdate())
        .order_by("-effective_from")
        .first()
    )


def user_has_current_undertaking(user: User) -> bool:
    """Whether the platform user has signed the undertaking in force.

    While no version is in force yet there is nothing to sign, and staff must
    still get in to write the first one; once a version takes effect, nobody
    (superusers included) passes without having signed exactly that version.
    """
    current = undertaking_version_current()
    if current is None:
        return True
    return Undertaking.objects.filter(user_id=user.pk, version=current).exists()
