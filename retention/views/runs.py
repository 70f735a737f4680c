"""Destruction runs: the list, a run's dry run with its approval, cancellation and retry, and
a scan on request. Everyone of the controller reads; only controller admins act."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.access import ANY_ROLE, role_required, user_has_role
from accounts.forms import AuthenticatorCodeForm
from accounts.models import Role
from config.errors import PortalError
from config.kvkk import DestructionMethod
from retention import runs
from retention.models import DestructionRun
from subjects.models import DataCategory

RUNS_SHOWN = 50


@role_required(*ANY_ROLE)
def run_list_view(request):
    run_list = list(DestructionRun.objects.select_related("minutes")[:RUNS_SHOWN])
    for run in run_list:
        run.total_items = _total_items(run)
    return render(
        request,
        "retention/runs/list.html",
        {"runs": run_list, "can_act": user_has_role(request.user, (Role.CONTROLLER_ADMIN,))},
    )


def _total_items(run: DestructionRun) -> int:
    return sum(figures.get("items", 0) for figures in run.counts.values())


def _count_rows(run: DestructionRun) -> list[dict]:
    names = dict(DataCategory.objects.filter(code__in=run.counts).values_list("code", "name"))
    methods = dict(DestructionMethod.choices)
    return [
        {
            "code": code,
            "category": names.get(code, code),
            "rule": figures.get("rule", ""),
            "method": methods.get(figures.get("method"), figures.get("method", "")),
            "items": figures.get("items", 0),
            "held": figures.get("held", 0),
            "subjects": figures.get("subjects", 0),
        }
        for code, figures in sorted(run.counts.items())
    ]


def _detail(request, run: DestructionRun, *, approve_form=None, status=200):
    return render(
        request,
        "retention/runs/detail.html",
        {
            "run": run,
            "count_rows": _count_rows(run),
            "total_items": _total_items(run),
            "approve_form": approve_form or AuthenticatorCodeForm(),
            "can_act": user_has_role(request.user, (Role.CONTROLLER_ADMIN,)),
            "minutes": getattr(run, "minutes", None),
        },
        status=status,
    )


def _run_get(pk: int) -> DestructionRun:
    return get_object_or_404(
        DestructionRun.objects.select_related("approved_by", "created_by"), pk=pk
    )


@role_required(*ANY_ROLE)
def run_detail_view(request, pk: int):
    return _detail(request, _run_get(pk))


@role_required(Role.CONTROLLER_ADMIN)
@require_POST
def run_approve_view(request, pk: int):
    run = _run_get(pk)
    form = AuthenticatorCodeForm(request.POST)
    if form.is_valid():
        try:
            runs.run_approve(
                run=run, user=request.user, token=form.cleaned_data["token"], request=request
            )
        except PortalError as exc:
            if exc.field is None:  # the run itself refuses (no longer a dry run, not an admin)
                messages.error(request, exc.message)
                return redirect("retention:run_detail", pk=run.pk)
            form.add_error(exc.field, exc.message)
        else:
            messages.success(
                request, _("The run is approved. Workers are destroying its items now.")
            )
            return redirect("retention:run_detail", pk=run.pk)
    return _detail(request, _run_get(pk), approve_form=form, status=400)


def _act(request, pk: int, service, done_message):
    run = _run_get(pk)
    try:
        service(run=run, user=request.user, request=request)
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done_message)
    return redirect("retention:run_detail", pk=run.pk)


@role_required(Role.CONTROLLER_ADMIN)
@require_POST
def run_cancel_view(request, pk: int):
    return _act(
        request, pk, runs.run_cancel, _("The run is cancelled; nothing of it was destroyed.")
    )


@role_required(Role.CONTROLLER_ADMIN)
@require_POST
def run_retry_view(request, pk: int):
    return _act(request, pk, runs.run_retry, _("The run is queued again."))


@role_required(Role.CONTROLLER_ADMIN)
@require_POST
def scan_request_view(request):
    try:
        runs.scan_request(user=request.user, request=request)
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("A scan is queued. Its dry run appears in the list below when it is ready."),
        )
    return redirect("retention:run_list")


urlpatterns = [
    path("runs/", run_list_view, name="run_list"),
    path("runs/scan/", scan_request_view, name="scan_request"),
    path("runs/<int:pk>/", run_detail_view, name="run_detail"),
    path("runs/<int:pk>/approve/", run_approve_view, name="run_approve"),
    path("runs/<int:pk>/cancel/", run_cancel_view, name="run_cancel"),
    path("runs/<int:pk>/retry/", run_retry_view, name="run_retry"),
]
