from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from simple_history.admin import SimpleHistoryAdmin

from tenants.accounts.models import User


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
    ]
