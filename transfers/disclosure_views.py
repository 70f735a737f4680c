"""Pages of the disclosure-request desk (C9); the rules live in transfers.disclosure."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import ANY_ROLE, role_required, user_has_role
from accounts.forms import AuthenticatorCodeForm
from config.errors import PortalError
from subjects.models import DataCategory, ProcessingPurpose
from transfers import disclosure as desk
from transfers.models import (
    DisclosureGround,
    DisclosureRequest,
    DisclosureStatus,
    RequesterKind,
)

REGISTERED = _("The disclosure request was registered. Classify it next.")
CLASSIFIED_BINDING = _(
    "Classified as legally binding. Two controller admins must now authorise it."
)
REJECTED = _("Rejected as not legally binding. Nothing will be disclosed; send the letter.")
AUTHORISED = _("Your authorisation was recorded.")
IDENTIFIERS_MAX = 200


class RegisterForm(forms.Form):
    requester_name = forms.CharField(label=_("Requester"), max_length=200)
    requester_kind = forms.ChoiceField(label=_("Kind of requester"), choices=RequesterKind.choices)
    instrument = forms.CharField(
        label=_("Legal instrument cited"),
        max_length=500,
        help_text=_("The letter's reference and the law, decision or order it relies on."),
    )
    received_at = forms.DateTimeField(
        label=_("Received at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    identifiers = forms.CharField(
        label=_("Data subjects"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One identifier per line: T.C. identity number, e-mail, phone or customer number."
        ),
    )
    categories = forms.ModelMultipleChoiceField(
        label=_("Data categories"),
        queryset=DataCategory.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    period_start = forms.DateField(
        label=_("Period from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=_("Period until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["categories"].queryset = DataCategory.objects.order_by("name")

    def clean_identifiers(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["identifiers"].splitlines()]
        values = list(dict.fromkeys(line for line in lines if line))
        if not values:
            raise forms.ValidationError(desk.NO_SUBJECTS)
        if len(values) > IDENTIFIERS_MAX:
            raise forms.ValidationError(
                _("At most %(count)d identifiers per request.") % {"count": IDENTIFIERS_MAX}
            )
        return values


class ClassifyForm(forms.Form):
    binding = forms.TypedChoiceField(
        label=_("Classification"),
        choices=[
            ("yes", _("Legally binding: the controller must disclose")),
            ("no", _("Not legally binding: reject")),
        ],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    provision = forms.CharField(
        label=_("Binding provision"),
        max_length=300,
        required=False,
        help_text=_("For a binding request, e.g. Code of Criminal Procedure Art. 332."),
    )
    ground = forms.ChoiceField(
        label=_("Ground (Art. 5(2))"),
        choices=[("", "—"), *DisclosureGround.choices],
        required=False,
    )
    purpose = forms.ModelChoiceField(
        label=_("Processing purpose"),
        queryset=ProcessingPurpose.objects.none(),
        required=False,
        help_text=_("The declared purpose the disclosure serves, for the transfer log."),
    )
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].queryset = ProcessingPurpose.objects.filter(is_active=True)


def _form_error(form: forms.Form, exc: PortalError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _context(request, disclosure: DisclosureRequest, **forms_) -> dict:
    user = request.user
    authorisations = list(disclosure.authorisations.select_related("user"))
    authorised_by_me = any(row.user_id == user.pk for row in authorisations)
    return {
        "disclosure": disclosure,
        "authorisations": authorisations,
        "required": desk.AUTHORISATIONS_REQUIRED,
        "can_classify": user_has_role(user, desk.CLASSIFIERS)
        and disclosure.status == DisclosureStatus.RECEIVED,
        "can_authorise": user_has_role(user, desk.AUTHORISERS)
        and disclosure.status == DisclosureStatus.BINDING
        and not authorised_by_me,
        "authorised_by_me": authorised_by_me,
        "can_export": user_has_role(user, desk.AUTHORISERS)
        and authorised_by_me
        and disclosure.status in (DisclosureStatus.AUTHORISED, DisclosureStatus.DISCLOSED),
        "classify_form": forms_.get("classify_form") or ClassifyForm(),
        "authorise_form": forms_.get("authorise_form") or AuthenticatorCodeForm(),
        "subjects": disclosure.subjects.order_by("pk"),
        "categories": disclosure.categories.order_by("name"),
    }


def _disclosure(pk: int) -> DisclosureRequest:
    return get_object_or_404(
        DisclosureRequest.objects.select_related("registered_by", "classified_by", "disclosed_by"),
        pk=pk,
    )


@role_required(*ANY_ROLE)
def list_view(request):
    status = request.GET.get("status", "")
    rows = DisclosureRequest.objects.annotate(authorised=Count("authorisations"))
    if status in DisclosureStatus.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    return render(
        request,
        "transfers/disclosures/list.html",
        {
            "disclosures": rows,
            "status": status,
            "statuses": DisclosureStatus.choices,
            "can_register": user_has_role(request.user, desk.CLASSIFIERS),
        },
    )


@role_required(*desk.CLASSIFIERS)
@require_http_methods(["GET", "POST"])
def register_view(request):
    form = RegisterForm(request.POST or None, initial={"received_at": timezone.localtime()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subject_ids = desk.subjects_identified(
                identifiers=data["identifiers"], actor=request.user, request=request
            )
            disclosure = desk.disclosure_register(
                requester_name=data["requester_name"],
                requester_kind=data["requester_kind"],
                instrument=data["instrument"],
                subject_ids=subject_ids,
                category_ids=[category.pk for category in data["categories"]],
                received_at=data["received_at"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                actor=request.user,
                request=request,
            )
        except PortalError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, REGISTERED)
            return redirect("transfers:disclosure_detail", pk=disclosure.pk)
    return render(request, "transfers/disclosures/register.html", {"form": form})


@role_required(*ANY_ROLE)
def detail_view(request, pk: int):
    disclosure = _disclosure(pk)
    return render(request, "transfers/disclosures/detail.html", _context(request, disclosure))


@role_required(*desk.CLASSIFIERS)
@require_POST
def classify_view(request, pk: int):
    disclosure = _disclosure(pk)
    form = ClassifyForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            disclosure = desk.disclosure_classify(
                disclosure=disclosure,
                binding=data["binding"],
                provision=data["provision"],
                ground=data["ground"],
                purpose=data["purpose"],
                note=data["note"],
                actor=request.user,
                request=request,
            )
        except PortalError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, CLASSIFIED_BINDING if disclosure.is_binding else REJECTED)
            return redirect("transfers:disclosure_detail", pk=disclosure.pk)
    context = _context(request, disclosure, classify_form=form)
    return render(request, "transfers/disclosures/detail.html", context, status=400)


@role_required(*desk.AUTHORISERS)
@require_POST
def authorise_view(request, pk: int):
    disclosure = _disclosure(pk)
    form = AuthenticatorCodeForm(request.POST)
    if form.is_valid():
        try:
            desk.disclosure_authorise(
                disclosure=disclosure,
                user=request.user,
                token=form.cleaned_data["token"],
                request=request,
            )
        except PortalError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, AUTHORISED)
            return redirect("transfers:disclosure_detail", pk=disclosure.pk)
    context = _context(request, disclosure, authorise_form=form)
    return render(request, "transfers/disclosures/detail.html", context, status=400)


@role_required(*desk.AUTHORISERS)
@require_POST
def export_view(request, pk: int):
    disclosure = _disclosure(pk)
    try:
        export = desk.disclosure_export(disclosure=disclosure, actor=request.user, request=request)
    except PortalError as exc:
        if exc.status == 403:
            raise PermissionDenied from exc
        messages.error(request, exc.message)
        return redirect("transfers:disclosure_detail", pk=disclosure.pk)
    response = HttpResponse(export.content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


@role_required(*ANY_ROLE)
def letter_view(request, pk: int):
    disclosure = _disclosure(pk)
    try:
        pdf = desk.rejection_letter_pdf(disclosure=disclosure, actor=request.user, request=request)
    except PortalError as exc:
        raise Http404 from exc
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="disclosure-{disclosure.pk}-letter.pdf"'
    )
    return response


urlpatterns = [
    path("disclosures/", list_view, name="disclosure_list"),
    path("disclosures/new/", register_view, name="disclosure_register"),
    path("disclosures/<int:pk>/", detail_view, name="disclosure_detail"),
    path("disclosures/<int:pk>/classify/", classify_view, name="disclosure_classify"),
    path("disclosures/<int:pk>/authorise/", authorise_view, name="disclosure_authorise"),
    path("disclosures/<int:pk>/export/", export_view, name="disclosure_export"),
    path("disclosures/<int:pk>/letter/", letter_view, name="disclosure_letter"),
]
