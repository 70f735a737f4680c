"""A controller's staff, managed by its controller admins (controller hosts only)."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import user_has_device

from accounts import second_factor, selectors, services
from accounts.access import role_required
from accounts.forms import AuthenticatorCodeForm, StaffInviteForm, StaffUpdateForm
from accounts.models import Role, User
from config.errors import PortalError


def _member_get(pk: int) -> User:
    try:
        return selectors.staff_member(pk=pk)
    except User.DoesNotExist as exc:
        raise Http404 from exc


def _invited_page(request, *, user: User, raw: str):
    link = request.build_absolute_uri(reverse("accounts:invitation", args=[raw]))
    context = {"invited": user, "link": link, "hours": settings.PORTAL_INVITATION_HOURS}
    return render(request, "accounts/staff_invited.html", context)


@role_required(Role.CONTROLLER_ADMIN)
def staff_list_view(request):
    return render(request, "accounts/staff_list.html", {"users": selectors.staff_list()})


@role_required(Role.CONTROLLER_ADMIN)
@require_http_methods(["GET", "POST"])
def staff_invite_view(request):
    form = StaffInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user, raw = services.staff_user_invite(invited_by=request.user, **form.cleaned_data)
        except PortalError as exc:
            form.add_error(exc.field, exc.message)
        else:
            return _invited_page(request, user=user, raw=raw)
    return render(request, "accounts/staff_invite.html", {"form": form})


def _member_page(request, member: User, *, form=None, reset_form=None):
    context = {
        "member": member,
        "is_self": member.pk == request.user.pk,
        "has_device": user_has_device(member, confirmed=None),
        "form": form
        or StaffUpdateForm(initial={"role": member.role, "is_active": member.is_active}),
        "reset_form": reset_form or AuthenticatorCodeForm(),
    }
    return render(request, "accounts/staff_update.html", context)


@role_required(Role.CONTROLLER_ADMIN)
@require_http_methods(["GET", "POST"])
def staff_update_view(request, pk):
    member = _member_get(pk)
    if request.method != "POST":
        return _member_page(request, member)
    form = StaffUpdateForm(request.POST)
    if form.is_valid():
        try:
            services.staff_user_update(user=member, changed_by=request.user, **form.cleaned_data)
        except PortalError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("accounts:staff")
    return _member_page(request, member, form=form)


@role_required(Role.CONTROLLER_ADMIN)
@require_POST
def staff_invitation_resend_view(request, pk):
    member = get_object_or_404(User, pk=pk)
    try:
        _, raw = services.invitation_resend(user=member, resent_by=request.user, request=request)
    except PortalError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:staff_update", pk=member.pk)
    return _invited_page(request, user=member, raw=raw)


@role_required(Role.CONTROLLER_ADMIN)
@require_POST
def staff_invitation_revoke_view(request, pk):
    member = get_object_or_404(User, pk=pk)
    try:
        services.invitation_revoke(user=member, revoked_by=request.user, request=request)
    except PortalError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:staff_update", pk=member.pk)
    messages.success(request, _("The invitation is revoked; its link no longer works."))
    return redirect("accounts:staff")


@role_required(Role.CONTROLLER_ADMIN)
@require_POST
def staff_device_reset_view(request, pk):
    member = _member_get(pk)
    form = AuthenticatorCodeForm(request.POST)
    if form.is_valid():
        try:
            second_factor.staff_device_reset(
                user=member,
                reset_by=request.user,
                token=form.cleaned_data["token"],
                request=request,
            )
        except PortalError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(
                request,
                _(
                    "The authenticator and backup codes are removed and the person is logged "
                    "out. They set up a new authenticator at their next log-in."
                ),
            )
            return redirect("accounts:staff_update", pk=member.pk)
    return _member_page(request, member, reset_form=form)
