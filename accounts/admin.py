from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import User


@admin.register(User)
class PlatformUserAdmin(UserAdmin, SimpleHistoryAdmin):
    """Platform admins (public schema). Controller staff are managed in their own portal."""

    list_display = [
        "username",
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
        "last_login",
        "undertaking_signed",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("undertakings__version")

    @admin.display(description=_("confidentiality undertaking signed"))
    def undertaking_signed(self, obj: User) -> str:
        """The latest version the user signed (the full register is under its own admin)."""
        latest = max(obj.undertakings.all(), key=lambda signed: signed.signed_at, default=None)
        return latest.version.version if latest else "—"
