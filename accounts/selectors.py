"""Reads about people."""

from django.db.models import Case, CharField, OuterRef, QuerySet, Subquery, Value, When
from django.utils import timezone

from accounts.models import Invitation, InvitationStatus, User


def staff_list() -> QuerySet[User]:
    """Every member, with ``invitation_status`` ("" once accepted or never invited).

    One query: the status comes from each member's newest invitation.
    """
    newest = Invitation.objects.filter(user=OuterRef("pk")).order_by("-created_at", "-pk")[:1]
    return (
        User.objects.annotate(
            newest_invitation_used=Subquery(newest.values("used_at")),
            newest_invitation_revoked=Subquery(newest.values("revoked_at")),
            newest_invitation_expires=Subquery(newest.values("expires_at")),
        )
        .annotate(
            invitation_status=Case(
                When(newest_invitation_expires__isnull=True, then=Value("")),
                When(newest_invitation_used__isnull=False, then=Value("")),
                When(newest_invitation_revoked__isnull=False, then=Value(InvitationStatus.REVOKED)),
                When(
                    newest_invitation_expires__lte=timezone.now(),
                    then=Value(InvitationStatus.EXPIRED),
                ),
                default=Value(InvitationStatus.PENDING),
                output_field=CharField(),
            )
        )
        .order_by("username")
    )


def staff_member(*, pk: int) -> User:
    """One member with the same annotations as the list (raises User.DoesNotExist)."""
    return staff_list().get(pk=pk)
