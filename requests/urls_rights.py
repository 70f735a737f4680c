"""Acting on the rights: answers, access packages, corrections, deletions, letters.

Every route starts with "haklar/", so none can be taken for an application's own page of
the work queue (requests/urls_work.py comes first)."""

from django.urls import path

from requests.views import letters, rights

urlpatterns = [
    path("haklar/<int:pk>/", rights.rights_view, name="rights"),
    path("haklar/<int:pk>/cevap/", rights.answer_open_view, name="answer_open"),
    path("haklar/<int:pk>/paket/", rights.package_request_view, name="package_request"),
    path("haklar/<int:pk>/duzeltme/", rights.correction_view, name="correction"),
    path("haklar/<int:pk>/silme/", rights.deletion_view, name="deletion"),
    path("haklar/<int:pk>/karar/", rights.claim_view, name="claim"),
    path("haklar/<int:pk>/sonuc-belgesi/", rights.outcome_document_view, name="outcome_document"),
    path("haklar/<int:pk>/ucret/", rights.fee_view, name="fee"),
    path("haklar/<int:pk>/hata/", rights.controller_error_view, name="controller_error"),
    path("haklar/paket/<int:pk>/", rights.package_review_view, name="package_review"),
    path("haklar/paket/<int:pk>/durum/", rights.package_status_view, name="package_status"),
    path("haklar/paket/<int:pk>/yeniden/", rights.package_retry_view, name="package_retry"),
    path("haklar/paket/<int:pk>/karart/", rights.package_redact_view, name="package_redact"),
    path("haklar/paket/<int:pk>/yayinla/", rights.package_release_view, name="package_release"),
    path("haklar/bildirim/<int:pk>/gonderildi/", rights.notice_sent_view, name="notice_sent"),
    path("haklar/bildirim/<int:pk>/teyit/", rights.notice_ack_view, name="notice_ack"),
    path("haklar/bildirim/<int:pk>/yazi/", letters.notice_pdf_view, name="notice_pdf"),
    path("haklar/<int:pk>/cevap-yazisi/", letters.compose_view, name="letter_compose"),
    path("haklar/yazi/<int:pk>/", letters.letter_pdf_view, name="letter_pdf"),
    path("haklar/yazi/<int:pk>/durum/", letters.letter_status_view, name="letter_status"),
    path("haklar/yazi/<int:pk>/yeniden/", letters.letter_retry_view, name="letter_retry"),
    path("haklar/yazi/<int:pk>/yayinla/", letters.letter_release_view, name="letter_release"),
    path("haklar/yazi-sablonlari/", letters.templates_view, name="letter_templates"),
]
