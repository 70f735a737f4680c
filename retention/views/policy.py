"""The storage-and-destruction policy (saklama ve imha politikası): the current version, the
versions before it, each as a page and as a PDF exactly as it was stored.

The inventory lives in a lower layer that cannot tell the policy it changed; opening the
policy renders it afresh and stores a new version when the content differs.
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils.http import content_disposition_header

from accounts.access import ANY_ROLE, role_required
from retention import policy, services
from retention.models import PolicyVersion


@role_required(*ANY_ROLE)
def policy_view(request):
    current = services.policy_refresh(actor=None)
    return _page(request, current)


@role_required(*ANY_ROLE)
def policy_version_view(request, number: int):
    return _page(request, get_object_or_404(PolicyVersion, number=number))


def _page(request, version: PolicyVersion):
    context = {
        "version": version,
        "is_latest": not PolicyVersion.objects.filter(number__gt=version.number).exists(),
        "versions": PolicyVersion.objects.select_related("created_by").order_by("-number"),
    }
    return render(request, "retention/policy/page.html", context)


@role_required(*ANY_ROLE)
def policy_pdf_view(request, number: int):
    version = get_object_or_404(PolicyVersion, number=number)
    response = HttpResponse(policy.policy_pdf(version), content_type="application/pdf")
    filename = f"saklama-ve-imha-politikasi-v{version.number}.pdf"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


urlpatterns = [
    path("policy/", policy_view, name="policy"),
    path("policy/v<int:number>/", policy_version_view, name="policy_version"),
    path("policy/v<int:number>.pdf", policy_pdf_view, name="policy_pdf"),
]
