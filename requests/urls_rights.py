"""Acting on the rights: answers, access packages, corrections, deletions, letters."""

from django.urls import path

from requests.views import letters, rights

urlpatterns = [
    path("<int:pk>/haklar/", rights.rights_view, name="rights"),
    path("<int:pk>/haklar/cevap/", rights.answer_open_view, name="answer_open"),
    path("<int:pk>/haklar/paket/", rights.package_request_view, name="package_request"),
    path("<int:pk>/haklar/duzeltme/", rights.correction_view, name="correction"),
    path("<int:pk>/haklar/silme/", rights.deletion_view, name="deletion"),
    path("<int:pk>/haklar/karar/", rights.claim_view, name="claim"),
    path("<int:pk>/haklar/sonuc-belgesi/", rights.outcome_document_view, name="outcome_document"),
    path("<int:pk>/haklar/ucret/", rights.fee_view, name="fee"),
    path("<int:pk>/haklar/hata/", rights.controller_error_view, name="controller_error"),
    path("paket/<int:pk>/", rights.package_review_view, name="package_review"),
    path("paket/<int:pk>/durum/", rights.package_status_view, name="package_status"),
    path("paket/<int:pk>/yeniden/", rights.package_retry_view, name="package_retry"),
    path("paket/<int:pk>/karart/", rights.package_redact_view, name="package_redact"),
    path("paket/<int:pk>/yayinla/", rights.package_release_view, name="package_release"),
    path("bildirim/<int:pk>/gonderildi/", rights.notice_sent_view, name="notice_sent"),
    path("bildirim/<int:pk>/teyit/", rights.notice_ack_view, name="notice_ack"),
    path("bildirim/<int:pk>/yazi/", letters.notice_pdf_view, name="notice_pdf"),
    path("<int:pk>/cevap-yazisi/", letters.compose_view, name="letter_compose"),
    path("yazi/<int:pk>/", letters.letter_pdf_view, name="letter_pdf"),
    path("yazi/<int:pk>/durum/", letters.letter_status_view, name="letter_status"),
    path("yazi/<int:pk>/yeniden/", letters.letter_retry_view, name="letter_retry"),
    path("yazi/<int:pk>/yayinla/", letters.letter_release_view, name="letter_release"),
    path("yazi-sablonlari/", letters.templates_view, name="letter_templates"),
]
