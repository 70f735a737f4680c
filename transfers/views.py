"""Recipients and the transfer log (KVKK Art. 8, 9; C6–C8).

Controller admins keep the recipient register; controller admins and request officers
record transfers; auditors read both.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.access import ANY_ROLE, WRITERS, role_required
from accounts.models import Role
from config.errors import PortalError
from transfers import selectors, services
from transfers.forms import RecipientForm, TransferFilterForm, TransferForm
from transfers.models import Recipient

PAGE_SIZE = 50


def _form_error(form, exc: PortalError) -> None:
    field = {"subject_ids": "subject_refs", "category_ids": "categories"}.get(exc.field, exc.field)
    form.add_error(field if field in form.fields else None, exc.message)


@role_required(*ANY_ROLE)
def index_view(request):
    return render(request, "transfers/index.html")


@role_required(*ANY_ROLE)
def recipient_list_view(request):
    rows = [
        {"recipient": r, "flag": selectors.notification_flag(r)} for r in selectors.recipient_list()
    ]
    return render(
        request,
        "transfers/recipient_list.html",
        {"rows": rows, "can_edit": request.user.role == Role.CONTROLLER_ADMIN},
    )


@role_required(Role.CONTROLLER_ADMIN)
@require_http_methods(["GET", "POST"])
def recipient_create_view(request):
    form = RecipientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.recipient_create(actor=request.user, request=request, **form.cleaned_data)
        except PortalError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The recipient is in the register."))
            return redirect("transfers:recipients")
    return render(request, "transfers/recipient_form.html", {"form": form})


@role_required(Role.CONTROLLER_ADMIN)
@require_http_methods(["GET", "POST"])
def recipient_edit_view(request, pk: int):
    recipient = get_object_or_404(Recipient, pk=pk, is_controller=False)
    form = RecipientForm.of(recipient, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.recipient_update(
                recipient=recipient, actor=request.user, request=request, **form.cleaned_data
            )
        except PortalError as exc:
            recipient.refresh_from_db()
            _form_error(form, exc)
        else:
            messages.success(request, _("The recipient is saved."))
            return redirect("transfers:recipients")
    return render(request, "transfers/recipient_form.html", {"form": form, "recipient": recipient})


@role_required(*ANY_ROLE)
def transfer_list_view(request):
    filters = TransferFilterForm(request.GET or None)
    options = {}
    if filters.is_valid():
        data = filters.cleaned_data
        options = {
            "recipient_id": data["recipient"].pk if data["recipient"] else None,
            "abroad": {"home": False, "abroad": True}.get(data["where"]),
            "legal_basis": data["legal_basis"],
            "since": data["since"],
            "until": data["until"],
        }
    page = Paginator(selectors.transfer_list(**options), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "transfers/transfer_list.html",
        {
            "query": query.urlencode(),
            "filters": filters,
            "page": page,
            "can_record": request.user.role in WRITERS,
        },
    )


@role_required(*WRITERS)
@require_http_methods(["GET", "POST"])
def transfer_create_view(request):
    form = TransferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.transfer_record(
                recipient=data["recipient"],
                category_ids=[c.pk for c in data["categories"]],
                subject_ids=data["subject_refs"],
                subject_query=form.subject_query(),
                purpose=data["purpose"],
                legal_basis=data["legal_basis"],
                ground=data["ground"],
                informed_at=data["informed_at"],
                note=data["note"],
                actor=request.user,
                request=request,
            )
        except PortalError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The transfer is recorded."))
            return redirect("transfers:log")
    return render(request, "transfers/transfer_form.html", {"form": form})
