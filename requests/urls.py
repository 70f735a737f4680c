from django.urls import path

from requests import views

app_name = "requests"

urlpatterns = [
    path("", views.index_view, name="index"),
]
