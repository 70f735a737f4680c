"""Getting in: password, second factor (or enrolment), invitation links, log-out, language."""

from base64 import b32encode

import django_otp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import lockout, second_factor, services
from accounts.access import otp_exempt
from accounts.forms import LoginForm, SetPasswordForm, TokenForm
from accounts.models import BackupCodeDevice
from audit.models import Action
from audit.services import audit_entry_create
from config.errors import PortalError

_ENROLL_SESSION_KEY = "enrolling_device_id"


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return settings.LOGIN_REDIRECT_URL


def _after_password(request) -> HttpResponseRedirect:
    nxt = _next_url(request)
    if user_has_device(request.user):
        return redirect(f"{reverse('accounts:verify')}?next={nxt}")
    return redirect("accounts:enroll")


@otp_exempt
@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated:
        return (
            redirect(_next_url(request)) if request.user.is_verified() else _after_password(request)
        )
    if request.method == "POST" and lockout.address_is_blocked(request=request):
        # Refused before the password is even looked at: no guess is tested.
        minutes = int(settings.LOGIN_ADDRESS_WINDOW.total_seconds() // 60)
        context = {"address_blocked": True, "minutes": minutes}
        return render(request, "accounts/locked_out.html", context, status=429)
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            auth_login(request, form.get_user())  # rotates the session key
            return _after_password(request)
        if form.has_error(NON_FIELD_ERRORS, "invalid_login"):
            lockout.address_failure_record(request=request)
    return render(request, "accounts/login.html", {"form": form, "next": _next_url(request)})


@otp_exempt
@require_http_methods(["GET", "POST"])
def verify_view(request):
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    if request.user.is_verified():
        return redirect(_next_url(request))
    if not user_has_device(request.user):
        return redirect("accounts:enroll")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = django_otp.match_token(request.user, form.cleaned_data["token"].strip())
        if device is not None:
            how = "backup_code" if isinstance(device, BackupCodeDevice) else "authenticator"
            second_factor.second_factor_login(request=request, device=device, how=how)
            return redirect(_next_url(request))
        audit_entry_create(
            action=Action.OTP_FAILED, actor=request.user, target=request.user, request=request
        )
        form.add_error("token", second_factor.TOKEN_INVALID)
    return render(request, "accounts/verify.html", {"form": form, "next": _next_url(request)})


@otp_exempt
@require_http_methods(["GET", "POST"])
def enroll_view(request):
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:login")
    if user_has_device(user):
        return redirect("accounts:verify")
    device = None
    device_id = request.session.get(_ENROLL_SESSION_KEY)
    if device_id:
        device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
    if device is None:
        device = second_factor.totp_device_start(user=user)
        request.session[_ENROLL_SESSION_KEY] = device.pk
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = second_factor.totp_device_confirm(
                device=device, token=form.cleaned_data["token"], request=request
            )
        except PortalError as exc:
            form.add_error(exc.field, exc.message)
        else:
            del request.session[_ENROLL_SESSION_KEY]
            second_factor.second_factor_login(request=request, device=device, how="enrolment")
            return render(
                request, "accounts/backup_codes.html", {"codes": codes, "first_time": True}
            )
    qr = segno.make(device.config_url, error="m").svg_data_uri(scale=5)
    secret = b32encode(device.bin_key).decode()
    return render(request, "accounts/enroll.html", {"form": form, "qr": qr, "secret": secret})


@otp_exempt
@require_POST
def logout_view(request):
    auth_logout(request)
    return redirect("accounts:login")


@otp_exempt
@require_http_methods(["GET", "POST"])
def invitation_view(request, token):
    try:
        invitation = services.invitation_get(raw_token=token)
    except PortalError as exc:
        return render(
            request, "accounts/invitation_invalid.html", {"message": exc.message}, status=404
        )
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_accept(
                raw_token=token, password=form.cleaned_data["password1"], request=request
            )
        except PortalError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(
                request, _("Your password is set. Log in and set up two-factor authentication.")
            )
            return redirect("accounts:login")
    return render(request, "accounts/invitation.html", {"form": form, "invited": invitation.user})


@otp_exempt
@require_POST
def set_language_view(request):
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    if request.user.is_authenticated:
        request.user.language = language
        request.user.save(update_fields=["language"])
    response = redirect(_next_url(request))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )
    return response
