"""The work queue and an application's handling: assignment, notes, statuses."""

from django.urls import path

from requests.views import queue

urlpatterns = [
    path("", queue.index_view, name="index"),
]
