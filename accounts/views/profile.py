"""One's own account: password and backup codes."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import second_factor, services
from accounts.forms import AuthenticatorCodeForm, PasswordChangeForm
from config.errors import PortalError


def _profile_page(request, *, password_form=None, codes_form=None):
    context = {
        "languages": settings.LANGUAGES,
        "password_form": password_form or PasswordChangeForm(),
        "codes_form": codes_form or AuthenticatorCodeForm(),
    }
    return render(request, "accounts/profile.html", context)


@require_GET
def profile_view(request):
    return _profile_page(request)


@require_POST
def password_change_view(request):
    form = PasswordChangeForm(request.POST)
    if form.is_valid():
        try:
            user = services.password_change(
                user=request.user,
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password1"],
                request=request,
            )
        except PortalError as exc:
            form.add_error(exc.field, exc.message)
        else:
            update_session_auth_hash(request, user)  # this session stays; others end
            messages.success(
                request, _("Your password is changed. Your other sessions have ended.")
            )
            return redirect("accounts:profile")
    return _profile_page(request, password_form=form)


@require_POST
def backup_codes_view(request):
    form = AuthenticatorCodeForm(request.POST)
    if form.is_valid():
        try:
            codes = second_factor.backup_codes_regenerate(
                user=request.user, token=form.cleaned_data["token"], request=request
            )
        except PortalError as exc:
            form.add_error(exc.field, exc.message)
        else:
            context = {"codes": codes, "first_time": False}
            return render(request, "accounts/backup_codes.html", context)
    return _profile_page(request, codes_form=form)
