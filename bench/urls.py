"""The portal's URLs on a controller's host, plus the benchmark's trivial view."""

from django.http import HttpResponse
from django.template import engines
from django.urls import include, path

from accounts.access import ANY_ROLE, role_required


@role_required(*ANY_ROLE)
def trivial_view(request):
    """Logged in, through every middleware of the portal, and nothing else: the baseline."""
    return HttpResponse("ok", content_type="text/plain")


_EMPTY_PAGE = engines["django"].from_string('{% extends "base.html" %}')


@role_required(*ANY_ROLE)
def layout_view(request):
    """An empty page in the portal's layout: what every page pays before its own content."""
    return HttpResponse(_EMPTY_PAGE.render({}, request))


urlpatterns = [
    path("bench/trivial/", trivial_view, name="bench_trivial"),
    path("bench/layout/", layout_view, name="bench_layout"),
    path("", include("config.urls_tenant")),
]
