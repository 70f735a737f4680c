"""The end of the contract on a controller's host: dates and the data-return export."""

from django.urls import path

from tenants.views import (
    contract_export_download_view,
    contract_export_request_view,
    contract_view,
)

app_name = "contract"

urlpatterns = [
    path("", contract_view, name="index"),
    path("export/", contract_export_request_view, name="export_request"),
    path("export/<uuid:export_uuid>/", contract_export_download_view, name="export_download"),
]
