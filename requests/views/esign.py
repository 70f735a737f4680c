"""The public page where an applicant proves their identity with an e-signed application.

No log-in: the applicant gives the reference they got when filing and the signed document.
Every failure tied to the reference answers with one message (no enumeration); attempts
are limited per address and per reference.
"""

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.access import otp_exempt
from config.errors import PortalError
from requests.esign import (
    TOO_MANY_ATTEMPTS,
    esign_attempt_allowed,
    esign_available,
    esign_verify_public,
    signer_name_masked,
)
from requests.forms_esign import EsignVerifyForm

TEMPLATE = "requests/esign/verify.html"


@otp_exempt
@require_http_methods(["GET", "POST"])
def esign_verify_view(request):
    available = esign_available()
    form = EsignVerifyForm(request.POST or None, request.FILES or None)
    context = {"form": form, "available": available}
    if request.method != "POST" or not available:
        return render(request, TEMPLATE, context)
    reference = request.POST.get("reference", "").strip().upper()[:40]
    if not esign_attempt_allowed(request=request, reference=reference):
        context["refusal"] = TOO_MANY_ATTEMPTS
        return render(request, TEMPLATE, context, status=429)
    if not form.is_valid():
        return render(request, TEMPLATE, context, status=400)
    try:
        application, result = esign_verify_public(
            reference=form.cleaned_data["reference"],
            data=form.cleaned_data["signed_file"],
            detached_content=form.cleaned_data["signed_content"],
            request=request,
        )
    except PortalError as exc:
        context["refusal"] = exc.message
        return render(request, TEMPLATE, context, status=400)
    return render(
        request,
        "requests/esign/verified.html",
        {"application": application, "signer": signer_name_masked(result.signer_name)},
    )
