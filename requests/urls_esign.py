"""Identity verification by an electronically signed application (PAdES or CMS)."""

from django.urls import path

from requests.views.esign import esign_verify_view

urlpatterns = [
    path("", esign_verify_view, name="esign"),
]
