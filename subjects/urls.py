from django.urls import path

from subjects import views

app_name = "subjects"

urlpatterns = [
    path("", views.index_view, name="index"),
]
