from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, SetUnusablePasswordMixin
from django.contrib.auth.models import Group
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from config.admin import HistoryAdmin, PermissionLabelsMixin

SEARCH_BY_USER = _("Search by the user's user name or e-mail address.")


class PasswordSetForm(AdminPasswordChangeForm):
    """Django's, with its warning translated (Django appends it as a plain English string)."""

    usable_password_help_text = format_lazy(
        '{}<ul id="id_unusable_warning" class="messagelist"><li class="warning">{}</li></ul>',
        SetUnusablePasswordMixin.usable_password_help_text,
        _("If disabled, the current password for this user will be lost."),
    )


@admin.register(User)
class PlatformUserAdmin(PermissionLabelsMixin, UserAdmin, HistoryAdmin):
    """Platform admins (public schema). Controller staff are managed in their own portal."""

    change_password_form = PasswordSetForm

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

    def has_delete_permission(self, request, obj=None):
        # Deactivate instead: the processing log and the signed undertakings name the user,
        # and the public schema lacks the controllers' tables a deletion would look through.
        return False

    @admin.display(description=_("confidentiality undertaking signed"))
    def undertaking_signed(self, obj: User) -> str:
        """The latest version the user signed (the full register is under its own admin)."""
        latest = max(obj.undertakings.all(), key=lambda signed: signed.signed_at, default=None)
        return latest.version.version if latest else "—"


admin.site.unregister(Group)


@admin.register(Group)
class PlatformGroupAdmin(PermissionLabelsMixin, GroupAdmin):
    pass


def _translated(fieldsets):
    """django-otp names its fieldsets with plain strings; their msgids are in config/i18n.py."""
    return [(_(name) if name else name, options) for name, options in fieldsets]


class PlatformTOTPDeviceAdmin(TOTPDeviceAdmin):
    search_help_text = SEARCH_BY_USER

    def get_fieldsets(self, request, obj=None):
        return _translated(super().get_fieldsets(request, obj))

    @admin.display(description=_("QR code"))
    def qrcode_link(self, device):
        return super().qrcode_link(device)


# django-otp registers its own admin when imported (above); ours replaces it.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, PlatformTOTPDeviceAdmin)
