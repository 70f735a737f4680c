"""Controller admins issue and revoke the API tokens their systems use."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import role_required
from accounts.models import Role
from subjects.api.auth import api_token_create, api_token_revoke
from subjects.forms import ApiTokenForm
from subjects.models import ApiToken


@role_required(Role.CONTROLLER_ADMIN)
@require_http_methods(["GET", "POST"])
def token_list_view(request):
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, raw = api_token_create(created_by=request.user, **form.cleaned_data)
        return render(request, "subjects/token_created.html", {"token": token, "raw": raw})
    tokens = ApiToken.objects.select_related("created_by")
    return render(request, "subjects/tokens.html", {"form": form, "tokens": tokens})


@role_required(Role.CONTROLLER_ADMIN)
@require_POST
def token_revoke_view(request, pk):
    token = get_object_or_404(ApiToken, pk=pk)
    api_token_revoke(token=token, revoked_by=request.user)
    messages.success(request, _("The token %(name)s is revoked.") % {"name": token.name})
    return redirect("subjects:tokens")
