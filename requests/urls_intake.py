"""The application form, identity verification, and following an application."""

from django.urls import path

from requests.views import intake

urlpatterns = [
    path("", intake.form_view, name="form"),
    path("dogrulama/", intake.verify_view, name="verify"),
    path("takip/", intake.follow_view, name="follow"),
    path("takip/kod/", intake.follow_code_view, name="follow_code"),
    path("takip/<str:reference>/", intake.follow_status_view, name="follow_status"),
    path("takip/<str:reference>/yanit/", intake.follow_reply_view, name="follow_reply"),
    path("takip/<str:reference>/belge/", intake.follow_document_view, name="follow_document"),
]
