"""Public pages of a controller's host for data subjects: no log-in."""

from django.urls import include, path

app_name = "intake"

urlpatterns = [
    path("", include("requests.urls_intake")),
    path("e-imza/", include("requests.urls_esign")),
]
