"""URLs of a controller's host: the staff portal (and, later, intake pages and the API)."""

from django.urls import include, path

from tenants.views import dashboard_view

urlpatterns = [
    path("", dashboard_view, name="dashboard"),
    path("accounts/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    path("requests/", include("requests.urls")),
    path("basvuru/", include("requests.urls_public")),
    path("subjects/", include("subjects.urls")),
    path("retention/", include("retention.urls")),
    path("transfers/", include("transfers.urls")),
    path("contract/", include("tenants.urls")),
    path("api/v1/", include("subjects.api.urls")),
]
