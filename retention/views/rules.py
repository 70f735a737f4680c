"""Retention rules per data category and the retention settings.

Every member of the controller's staff reads them; controller admins change them, through
retention.services. Categories without a rule are listed too, flagged: their data is never
destroyed automatically.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import ANY_ROLE, role_required
from accounts.models import Role
from config.errors import PortalError
from retention import services
from retention.forms import RetentionRuleForm, RetentionSettingsForm
from retention.models import RetentionRule
from retention.runs import retention_settings_read
from subjects.models import DataCategory

HISTORY_ROWS = 50


def _is_admin(request) -> bool:
    return request.user.role == Role.CONTROLLER_ADMIN


def _refused(form, exc: PortalError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@role_required(*ANY_ROLE)
def rule_list_view(request):
    categories = DataCategory.objects.select_related("retention_rule").order_by("name")
    rows = [(category, getattr(category, "retention_rule", None)) for category in categories]
    context = {
        "rows": rows,
        "missing": sum(1 for _category, rule in rows if rule is None),
        "settings": retention_settings_read(),
        "statute": RetentionRule.Source.STATUTE,
        "can_edit": _is_admin(request),
    }
    return render(request, "retention/rules/index.html", context)


@role_required(*ANY_ROLE)
@require_http_methods(["GET", "POST"])
def rule_view(request, code: str):
    """A category's rule with its history; controller admins set or change it here."""
    category = get_object_or_404(DataCategory, code=code)
    rule = RetentionRule.objects.filter(category=category).first()
    if request.method == "POST" and not _is_admin(request):
        raise PermissionDenied
    form = None
    if _is_admin(request):
        form = RetentionRuleForm(request.POST or None, instance=rule)
        if request.method == "POST" and form.is_valid():
            data = dict(form.cleaned_data)
            try:
                services.retention_rule_save(
                    category=category, **data, actor=request.user, request=request
                )
            except PortalError as exc:
                _refused(form, exc)
            else:
                messages.success(request, _("The retention rule is saved."))
                return redirect("retention:rules")
    history = (
        rule.history.select_related("history_user").order_by("-history_date")[:HISTORY_ROWS]
        if rule
        else []
    )
    context = {
        "category": category,
        "rule": rule,
        "form": form,
        "history": history,
        "statute": RetentionRule.Source.STATUTE,
    }
    return render(request, "retention/rules/rule.html", context)


@role_required(Role.CONTROLLER_ADMIN)
@require_POST
def rule_confirm_view(request, code: str):
    rule = get_object_or_404(RetentionRule, category__code=code)
    services.retention_rule_confirm(rule=rule, actor=request.user, request=request)
    messages.success(request, _("The retention period is confirmed."))
    return redirect("retention:rules")


@role_required(Role.CONTROLLER_ADMIN)
@require_POST
def starter_adopt_view(request):
    made = services.starter_set_adopt(actor=request.user, request=request)
    messages.success(
        request,
        _("Starter set adopted: %(categories)s categories and %(rules)s rules added.") % made,
    )
    return redirect("retention:rules")


@role_required(*ANY_ROLE)
@require_http_methods(["GET", "POST"])
def settings_view(request):
    if request.method == "POST" and not _is_admin(request):
        raise PermissionDenied
    current = retention_settings_read()
    form = RetentionSettingsForm(request.POST or None, instance=current)
    if not _is_admin(request):
        for field in form.fields.values():
            field.disabled = True
    elif request.method == "POST" and form.is_valid():
        try:
            services.retention_settings_update(
                **form.cleaned_data, actor=request.user, request=request
            )
        except PortalError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("The retention settings are saved."))
            return redirect("retention:rules")
    history = (
        current.history.select_related("history_user").order_by("-history_date")[:HISTORY_ROWS]
        if current.pk
        else []
    )
    context = {"form": form, "can_edit": _is_admin(request), "history": history}
    return render(request, "retention/rules/settings.html", context)


urlpatterns = [
    path("rules/", rule_list_view, name="rules"),
    path("starter-set/", starter_adopt_view, name="starter_adopt"),
    path("rules/<slug:code>/", rule_view, name="rule"),
    path("rules/<slug:code>/confirm/", rule_confirm_view, name="rule_confirm"),
    path("settings/", settings_view, name="settings"),
]
