from django.db.models import QuerySet
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from tenants.models import ESignTrustAnchor, Tenant, Undertaking, UndertakingVersion


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


def esign_trust_anchors_active() -> list[str]:
    """PEM certificates of the active e-signature trust anchors, for requests.esign.

    The table lives in the public schema; the provider is called on a controller's host.
    """
    with schema_context("public"):
        return list(
            ESignTrustAnchor.objects.filter(is_active=True)
            .order_by("pk")
            .values_list("certificate_pem", flat=True)
        )
