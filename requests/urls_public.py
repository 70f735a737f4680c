"""Public pages of a controller's host for data subjects: no log-in."""

from django.urls import include, path

from requests.views.delivery import download_view

app_name = "intake"

urlpatterns = [
    path("", include("requests.urls_intake")),
    path("e-imza/", include("requests.urls_esign")),
    path("takip/<str:reference>/indir/<str:key>/", download_view, name="download"),
]
