"""The public page where an applicant proves their identity with an e-signed application.

No log-in: the applicant gives the reference they got when filing and the signed document.
Every failure tied to the reference answers with one message (no enumeration); attempts
are limited per address and per reference.
"""

from django.conf import settings
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
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
from requests.forms_esign import TOO_LARGE, EsignVerifyForm

TEMPLATE = "requests/esign/verify.html"
# Room for the form's text fields and the multipart framing beside the two files.
_FORM_OVERHEAD_BYTES = 64 * 1024


def _body_too_large(request) -> bool:
    """Checked before the body is read, so an oversized upload never reaches the disk."""
    limit = 2 * settings.ESIGN_MAX_BYTES + _FORM_OVERHEAD_BYTES
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > limit
    except ValueError:
        return True


@otp_exempt
@require_http_methods(["GET", "POST"])
def esign_verify_view(request):
    context = {"available": esign_available(), "form": EsignVerifyForm()}
    if request.method != "POST" or not context["available"]:
        return render(request, TEMPLATE, context)
    if _body_too_large(request):
        context["refusal"] = TOO_LARGE % {"limit": filesizeformat(settings.ESIGN_MAX_BYTES)}
        return render(request, TEMPLATE, context, status=413)
    reference = request.POST.get("reference", "").strip().upper()[:40]
    if not esign_attempt_allowed(request=request, reference=reference):
        context["refusal"] = TOO_MANY_ATTEMPTS
        return render(request, TEMPLATE, context, status=429)
    form = context["form"] = EsignVerifyForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, TEMPLATE, context, status=400)
    content = request.FILES.get("signed_content")
    try:
        application, result = esign_verify_public(
            reference=form.cleaned_data["reference"],
            data=form.cleaned_data["signed_file"],
            detached_content=form.cleaned_data["signed_content"],
            request=request,
            document_name=request.FILES["signed_file"].name,
            content_name=content.name if content else "",
        )
    except PortalError as exc:
        context["refusal"] = exc.message
        return render(request, TEMPLATE, context, status=400)
    return render(
        request,
        "requests/esign/verified.html",
        {"application": application, "signer": signer_name_masked(result.signer_name)},
    )
