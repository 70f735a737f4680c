"""The register's own destruction of a data subject: a controller admin states why and
re-enters a current authenticator code; the destruction service does the rest."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from accounts.access import role_required
from accounts.forms import AuthenticatorCodeForm
from accounts.models import Role
from accounts.second_factor import authenticator_code_check
from config.errors import PortalError
from retention.destruction import destruction_on_demand
from retention.models import DestructionRun
from subjects.selectors import subject_list

DESTROYED = _("The data subject's data was destroyed. The destruction minutes record it.")


class SubjectDestroyForm(AuthenticatorCodeForm):
    reason = forms.CharField(
        label=_("Reason for the destruction"),
        min_length=5,
        max_length=255,
        help_text=_("Written into the destruction minutes, e.g. the application it answers."),
    )
    field_order = ["reason", "token"]


@role_required(Role.CONTROLLER_ADMIN)
@require_http_methods(["GET", "POST"])
def subject_destroy_view(request, uuid):
    subject = get_object_or_404(subject_list(), uuid=uuid)
    if subject.is_shredded:
        return redirect("subjects:detail", uuid=subject.uuid)
    form = SubjectDestroyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            authenticator_code_check(user=request.user, token=form.cleaned_data["token"])
            destruction_on_demand(
                kind=DestructionRun.Kind.REGISTER,
                reason=form.cleaned_data["reason"],
                actor=request.user,
                subject_ids=[subject.pk],
            )
        except PortalError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, DESTROYED)
            return redirect("subjects:detail", uuid=subject.uuid)
    return render(request, "retention/subject_destroy.html", {"subject": subject, "form": form})


urlpatterns = [
    path("subjects/<uuid:uuid>/destroy/", subject_destroy_view, name="subject_destroy"),
]
