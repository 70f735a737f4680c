from django.urls import path

from transfers import disclosure_views, views

app_name = "transfers"

urlpatterns = [
    path("", views.index_view, name="index"),
    *disclosure_views.urlpatterns,
]
