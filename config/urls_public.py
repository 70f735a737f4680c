"""URLs of the platform host (the public schema): landing page, Django admin, undertaking."""

from django.contrib import admin
from django.urls import include, path

from tenants.views import landing_view, undertaking_view

urlpatterns = [
    path("", landing_view, name="landing"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("undertaking/", undertaking_view, name="undertaking"),
]
