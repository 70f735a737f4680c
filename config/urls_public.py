"""URLs of the platform host (the public schema): landing page, Django admin, undertaking,
and the public key that signs the processing log's checkpoints."""

from django.contrib import admin
from django.urls import include, path

from accounts import urls as accounts_urls
from audit.views import signing_key_view
from tenants.views import landing_view, undertaking_view

urlpatterns = [
    path("", landing_view, name="landing"),
    path("admin/", admin.site.urls),
    # Log-in and one's own profile only: staff pages exist on controller hosts alone (404 here).
    path("accounts/", include((accounts_urls.personal_urlpatterns, accounts_urls.app_name))),
    path("undertaking/", undertaking_view, name="undertaking"),
    path("audit/signing-key.pem", signing_key_view, name="signing_key"),
]
