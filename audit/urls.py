from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("", views.entry_list_view, name="entries"),
    path("export.csv", views.entry_export_view, name="export"),
    path("checkpoint/", views.checkpoint_create_view, name="checkpoint"),
]
