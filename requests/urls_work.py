"""The work queue and an application's handling: assignment, notes, statuses."""

from django.urls import path

from requests.views import detail, queue, register_channel

urlpatterns = [
    path("", queue.index_view, name="index"),
    path("register.csv", queue.register_export_view, name="export"),
    path("new/", register_channel.register_channel_view, name="register"),
    path("<str:reference>/", detail.detail_view, name="detail"),
    path("<str:reference>/assign/", detail.assign_view, name="assign"),
    path("<str:reference>/note/", detail.note_view, name="note"),
    path("<str:reference>/question/", detail.question_view, name="question"),
    path("<str:reference>/status/", detail.status_view, name="status"),
    path("<str:reference>/spam/", detail.spam_view, name="spam"),
    path("<str:reference>/identity/", detail.identity_check_view, name="identity_check"),
    path("<str:reference>/documents/<uuid:uuid>/", detail.document_view, name="document"),
    path(
        "<str:reference>/documents/<uuid:uuid>/e-signature/",
        detail.document_esign_view,
        name="document_esign",
    ),
]
