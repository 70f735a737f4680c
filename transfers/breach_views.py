"""Breach register pages (KVKK Art. 12(5), C14): list, record, the Board clock and notices,
the affected subjects and their e-mail notices."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import ANY_ROLE, WRITERS, role_required
from config.celery import app
from config.errors import PortalError
from subjects.models import DataSubject
from subjects.selectors import subject_lookup
from transfers import breaches
from transfers.breach_forms import (
    BreachForm,
    BreachNoticeForm,
    SubjectFilterForm,
    SubjectLookupForm,
    SubjectRefsForm,
)
from transfers.models import Breach, BreachSubjectNotice


def _can_write(request) -> bool:
    return request.user.role in WRITERS


@role_required(*ANY_ROLE)
def breach_list_view(request):
    rows = [
        (breach, breaches.breach_clock(breach))
        for breach in Breach.objects.order_by("-detected_at", "-pk")[:200]
    ]
    return render(
        request,
        "transfers/breach_list.html",
        {"rows": rows, "can_write": _can_write(request)},
    )


def _breach_form_save(request, form, breach=None):
    data = dict(form.cleaned_data)
    category_ids = [category.pk for category in data.pop("categories")]
    try:
        if breach is None:
            return breaches.breach_create(
                actor=request.user, category_ids=category_ids, request=request, **data
            )
        return breaches.breach_update(
            breach=breach, actor=request.user, category_ids=category_ids, request=request, **data
        )
    except PortalError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        return None


@role_required(*WRITERS)
def breach_create_view(request):
    form = BreachForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        breach = _breach_form_save(request, form)
        if breach is not None:
            messages.success(request, _("The breach is recorded; the Board's clock is running."))
            return redirect("transfers:breach_detail", breach.pk)
    return render(request, "transfers/breach_form.html", {"form": form, "breach": None})


@role_required(*WRITERS)
def breach_edit_view(request, pk: int):
    breach = get_object_or_404(Breach, pk=pk)
    form = BreachForm(request.POST or None, instance=breach)
    if request.method == "POST" and form.is_valid():
        # The form's instance carries the posted values; the service reloads and saves.
        saved = _breach_form_save(request, form, Breach.objects.get(pk=pk))
        if saved is not None:
            messages.success(request, _("The breach is saved."))
            return redirect("transfers:breach_detail", saved.pk)
    return render(request, "transfers/breach_form.html", {"form": form, "breach": breach})


def _detail_context(request, breach, **forms):
    context = {
        "breach": breach,
        "clock": breaches.breach_clock(breach),
        "categories": breach.categories.order_by("name"),
        "notices": breach.notices.all(),
        "progress": breaches.subject_notices_progress(breach=breach),
        "unreachable": breach.subject_notices.filter(
            status=BreachSubjectNotice.Status.UNREACHABLE
        ).select_related("subject__group"),
        "can_write": _can_write(request),
        "notice_form": forms.get("notice_form") or BreachNoticeForm(),
        "lookup_form": forms.get("lookup_form") or SubjectLookupForm(),
        "filter_form": forms.get("filter_form") or SubjectFilterForm(),
        "refs_form": forms.get("refs_form") or SubjectRefsForm(),
    }
    return context


@role_required(*ANY_ROLE)
def breach_detail_view(request, pk: int):
    breach = get_object_or_404(Breach, pk=pk)
    return render(request, "transfers/breach_detail.html", _detail_context(request, breach))


@require_POST
@role_required(*WRITERS)
def breach_notice_view(request, pk: int):
    breach = get_object_or_404(Breach, pk=pk)
    form = BreachNoticeForm(request.POST)
    if form.is_valid():
        try:
            breaches.breach_notice_add(
                breach=breach, actor=request.user, request=request, **form.cleaned_data
            )
        except PortalError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("The notice to the Board is recorded."))
            return redirect("transfers:breach_detail", breach.pk)
    context = _detail_context(request, breach, notice_form=form)
    return render(request, "transfers/breach_detail.html", context, status=400)


@role_required(*ANY_ROLE)
def breach_board_pdf_view(request, pk: int):
    breach = get_object_or_404(Breach, pk=pk)
    follow_up = request.GET.get("notice") == "follow_up"
    pdf = breaches.board_notice_pdf(breach=breach, follow_up=follow_up)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="ihlal-bildirimi-{breach.pk}.pdf"'
    return response


def _subjects_chosen(request, mode: str):
    """The subject ids a selection form picks, or the bound form with its errors."""
    if mode == "lookup":
        form = SubjectLookupForm(request.POST)
        if not form.is_valid():
            return form, None
        matches = subject_lookup(
            value=form.cleaned_data["value"], actor=request.user, request=request
        )
        if not matches:
            form.add_error("value", _("No subject in the register holds this identifier."))
            return form, None
        return form, [match.subject.pk for match in matches]
    if mode == "filter":
        form = SubjectFilterForm(request.POST)
        if not form.is_valid():
            return form, None
        subjects = DataSubject.objects.filter(key_destroyed_at__isnull=True)
        if form.cleaned_data["group"]:
            subjects = subjects.filter(group=form.cleaned_data["group"])
        if form.cleaned_data["category"]:
            subjects = subjects.filter(
                items__category=form.cleaned_data["category"], items__deleted_at__isnull=True
            )
        ids = list(subjects.values_list("pk", flat=True).distinct())
        if not ids:
            form.add_error(None, _("No subject in the register matches."))
            return form, None
        return form, ids
    form = SubjectRefsForm(request.POST)
    if not form.is_valid():
        return form, None
    refs = set(form.cleaned_data["refs"])
    ids = list(
        DataSubject.objects.filter(uuid__in=refs, key_destroyed_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    if len(ids) != len(refs):
        form.add_error("refs", _("Some references are not subjects in the register."))
        return form, None
    return form, ids


FORM_KEYS = {"lookup": "lookup_form", "filter": "filter_form", "refs": "refs_form"}


@require_POST
@role_required(*WRITERS)
def breach_subjects_view(request, pk: int):
    breach = get_object_or_404(Breach, pk=pk)
    mode = request.POST.get("mode")
    if mode not in FORM_KEYS:
        mode = "refs"
    form, ids = _subjects_chosen(request, mode)
    if ids is None:
        context = _detail_context(request, breach, **{FORM_KEYS[mode]: form})
        return render(request, "transfers/breach_detail.html", context, status=400)
    rows = breaches.subjects_affected_add(
        breach=breach, subject_ids=ids, actor=request.user, request=request
    )
    messages.success(request, _("%(count)d subjects added as affected.") % {"count": len(rows)})
    return redirect("transfers:breach_detail", breach.pk)


@require_POST
@role_required(*WRITERS)
def breach_notify_subjects_view(request, pk: int):
    breach = get_object_or_404(Breach, pk=pk)
    schema_name = request.tenant.schema_name
    transaction.on_commit(
        lambda: app.send_task(
            "transfers.tasks.breach_subject_notices",
            kwargs={"schema_name": schema_name, "breach_id": breach.pk},
        )
    )
    messages.success(request, _("The notices are being sent; the progress shows below."))
    return redirect("transfers:breach_detail", breach.pk)


@role_required(*ANY_ROLE)
def breach_progress_view(request, pk: int):
    breach = get_object_or_404(Breach, pk=pk)
    return render(
        request,
        "transfers/fragment_breach_progress.html",
        {"breach": breach, "progress": breaches.subject_notices_progress(breach=breach)},
    )
