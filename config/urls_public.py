"""URLs of the platform host (the public schema): landing page, Django admin, undertaking,
and the public key that signs the processing log's checkpoints."""

from django.contrib import admin
from django.urls import include, path

from audit.views import signing_key_view
from tenants.views import landing_view, undertaking_view

urlpatterns = [
    path("", landing_view, name="landing"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("undertaking/", undertaking_view, name="undertaking"),
    path("audit/signing-key.pem", signing_key_view, name="signing_key"),
]
