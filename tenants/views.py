from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from accounts.access import ANY_ROLE, otp_exempt, platform_staff_required, role_required
from accounts.models import User
from audit import signing
from audit.selectors import audit_entry_list
from config.errors import PortalError
from retention.backlog import backlog_panel
from tenants.forms import UndertakingSignForm
from tenants.selectors import undertaking_version_current, user_has_current_undertaking
from tenants.undertakings import undertaking_sign


@otp_exempt
def landing_view(request):
    """The platform host's front page, with the key that signs the processing logs' checkpoints."""
    return render(request, "tenants/landing.html", {"signing_fingerprint": signing.fingerprint()})


@role_required(*ANY_ROLE)
def dashboard_view(request):
    context = {
        "staff_count": User.objects.filter(is_active=True).exclude(role="").count(),
        "recent_entries": audit_entry_list().filter(actor_id=request.user.pk)[:5],
        "backlog": backlog_panel(),
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


def _admin_next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return reverse("admin:index")


@platform_staff_required
@require_http_methods(["GET", "POST"])
def undertaking_view(request):
    """Read and sign the confidentiality undertaking in force, then go on to the admin."""
    next_url = _admin_next_url(request)
    if user_has_current_undertaking(request.user):
        return redirect(next_url)
    current = undertaking_version_current()
    form = UndertakingSignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            undertaking_sign(
                user=request.user, version=form.cleaned_data["version"], request=request
            )
        except PortalError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect(next_url)
    return render(
        request,
        "tenants/undertaking_sign.html",
        {"version": current, "form": form, "next": next_url},
    )
