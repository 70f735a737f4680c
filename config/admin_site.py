"""The platform admins' Django admin on the public host.

Only staff with a verified second factor get in; the log-in page is the
portal's own (password, then OTP), so the admin has no weaker side door.
"""

from django.contrib.admin import AdminSite
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _


class PlatformAdminSite(AdminSite):
    site_header = _("KVKK Portal — platform administration")
    site_title = _("KVKK Portal")
    index_title = _("Platform administration")

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and user.is_verified())

    def login(self, request, extra_context=None):
        if request.user.is_authenticated and request.user.is_verified():
            raise PermissionDenied  # logged in fully, but not a platform admin
        return redirect_to_login(request.GET.get("next") or "/admin/")
