"""The portal's URLs on a controller's host, plus the benchmark's trivial view."""

from django.http import HttpResponse
from django.urls import include, path

from accounts.access import ANY_ROLE, role_required


@role_required(*ANY_ROLE)
def trivial_view(request):
    """Logged in, through every middleware of the portal, and nothing else: the baseline."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/trivial/", trivial_view, name="bench_trivial"),
    path("", include("config.urls_tenant")),
]
