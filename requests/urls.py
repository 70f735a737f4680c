"""Staff pages of data-subject applications (the controller's portal)."""

from django.urls import include, path

app_name = "requests"

urlpatterns = [
    path("", include("requests.urls_work")),
    path("", include("requests.urls_rights")),
]
