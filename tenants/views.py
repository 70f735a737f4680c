from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import ANY_ROLE, otp_exempt, platform_staff_required, role_required
from accounts.models import Role, User
from audit import signing
from audit.selectors import audit_entry_list
from config.errors import PortalError
from requests.selectors import queue_counts
from retention.backlog import backlog_panel
from subjects import selectors as subject_selectors
from tenants.contract import (
    export_download_record,
    export_request,
    exports_of,
    read_only_message,
)
from tenants.forms import UndertakingSignForm
from tenants.models import ContractExport
from tenants.selectors import undertaking_version_current, user_has_current_undertaking
from tenants.undertakings import undertaking_sign
from transfers.breaches import breaches_open


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
        "special_held": subject_selectors.special_category_summary(),
        "consents_withdrawn": subject_selectors.consents_withdrawn_recently(days=30)[:10],
        "breaches_open": breaches_open(),
        "applications": queue_counts(),
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


@role_required(Role.CONTROLLER_ADMIN)
def contract_view(request):
    """The end of the contract: the dates, and the data-return exports (controller admins)."""
    tenant = request.tenant
    return render(
        request,
        "tenants/contract.html",
        {
            "tenant": tenant,
            "read_only_message": read_only_message(tenant) if tenant.is_read_only else "",
            "exports": exports_of(tenant),
        },
    )


@role_required(Role.CONTROLLER_ADMIN)
@require_POST
def contract_export_request_view(request):
    try:
        export_request(tenant=request.tenant, user=request.user, request=request)
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The export is being prepared. Its download link appears here when ready.")
        )
    return redirect("contract:index")


@role_required(Role.CONTROLLER_ADMIN)
def contract_export_download_view(request, export_uuid):
    """The ZIP of a finished export, to this controller's admins only (streamed from storage)."""
    export = get_object_or_404(
        exports_of(request.tenant), uuid=export_uuid, status=ContractExport.Status.READY
    )
    export_download_record(export=export, user=request.user, request=request)
    return FileResponse(
        default_storage.open(export.path),
        as_attachment=True,
        filename=f"{request.tenant.slug}-export-{export.created_at:%Y%m%d-%H%M}.zip",
        content_type="application/zip",
    )
