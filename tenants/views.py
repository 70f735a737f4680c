from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from audit.selectors import audit_entry_list
from tenants.accounts.access import ANY_ROLE, otp_exempt, role_required
from tenants.accounts.models import User


@otp_exempt
def landing_view(request):
    """The platform host's front page."""
    return render(request, "tenants/landing.html")


@role_required(*ANY_ROLE)
def dashboard_view(request):
    context = {
        "staff_count": User.objects.filter(is_active=True).exclude(role="").count(),
        "recent_entries": audit_entry_list().filter(actor_id=request.user.pk)[:5],
        "modules": [
            (
                "requests:index",
                _("Data-subject applications"),
                _("Art. 11 applications and their 30-day deadlines."),
            ),
            (
                "subjects:index",
                _("Personal-data register"),
                _("Data subjects and the personal data held for them."),
            ),
            (
                "retention:index",
                _("Retention and destruction"),
                _("Inventory, retention rules and destruction minutes."),
            ),
            (
                "transfers:index",
                _("Transfers"),
                _("Recipients, transfer log, disclosure requests, consents, breaches."),
            ),
        ],
    }
    return render(request, "tenants/dashboard.html", context)
