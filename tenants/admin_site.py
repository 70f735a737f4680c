"""The platform admins' Django admin on the public host.

Only staff with a verified second factor and a signed confidentiality
undertaking in force get in; the log-in page is the portal's own (password,
then OTP), so the admin has no weaker side door.
"""

from urllib.parse import urlencode

from django.contrib.admin import AdminSite
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tenants.selectors import user_has_current_undertaking


def _is_verified_staff(user) -> bool:
    return bool(user.is_active and user.is_staff and user.is_verified())


class PlatformAdminSite(AdminSite):
    site_header = _("KVKK Portal — platform administration")
    site_title = _("KVKK Portal")
    index_title = _("Platform administration")

    def has_permission(self, request) -> bool:
        user = request.user
        return _is_verified_staff(user) and user_has_current_undertaking(user)

    def login(self, request, extra_context=None):
        """Where the admin sends whoever it refuses; never a page that sends back here."""
        user = request.user
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        if not (user.is_authenticated and user.is_verified()):
            return redirect_to_login(next_url)
        if not _is_verified_staff(user):
            raise PermissionDenied  # logged in fully, but not a platform admin
        if self.has_permission(request):
            return redirect("admin:index")
        # A platform admin whose only gap is the undertaking in force: sign it first.
        return redirect(f"{reverse('undertaking')}?{urlencode({'next': next_url}, safe='/')}")
