from django.urls import path

from transfers import breach_views, disclosure_views, views

app_name = "transfers"

urlpatterns = [
    path("", views.index_view, name="index"),
    path("recipients/", views.recipient_list_view, name="recipients"),
    path("recipients/new/", views.recipient_create_view, name="recipient_create"),
    path("recipients/<int:pk>/", views.recipient_edit_view, name="recipient_edit"),
    path("log/", views.transfer_list_view, name="log"),
    path("log/new/", views.transfer_create_view, name="transfer_create"),
    *disclosure_views.urlpatterns,
    path("breaches/", breach_views.breach_list_view, name="breach_list"),
    path("breaches/new/", breach_views.breach_create_view, name="breach_create"),
    path("breaches/<int:pk>/", breach_views.breach_detail_view, name="breach_detail"),
    path("breaches/<int:pk>/edit/", breach_views.breach_edit_view, name="breach_edit"),
    path("breaches/<int:pk>/notices/", breach_views.breach_notice_view, name="breach_notice"),
    path(
        "breaches/<int:pk>/board.pdf", breach_views.breach_board_pdf_view, name="breach_board_pdf"
    ),
    path("breaches/<int:pk>/subjects/", breach_views.breach_subjects_view, name="breach_subjects"),
    path(
        "breaches/<int:pk>/notify/", breach_views.breach_notify_subjects_view, name="breach_notify"
    ),
    path("breaches/<int:pk>/progress/", breach_views.breach_progress_view, name="breach_progress"),
]
