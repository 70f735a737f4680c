from django.urls import path

from retention import views

app_name = "retention"

urlpatterns = [
    path("", views.index_view, name="index"),
]
