from django.urls import path

from transfers import views

app_name = "transfers"

urlpatterns = [
    path("", views.index_view, name="index"),
    path("breaches/", views.breach_list_view, name="breach_list"),
    path("breaches/new/", views.breach_create_view, name="breach_create"),
    path("breaches/<int:pk>/", views.breach_detail_view, name="breach_detail"),
    path("breaches/<int:pk>/edit/", views.breach_edit_view, name="breach_edit"),
    path("breaches/<int:pk>/notices/", views.breach_notice_view, name="breach_notice"),
    path("breaches/<int:pk>/board.pdf", views.breach_board_pdf_view, name="breach_board_pdf"),
    path("breaches/<int:pk>/subjects/", views.breach_subjects_view, name="breach_subjects"),
    path("breaches/<int:pk>/notify/", views.breach_notify_subjects_view, name="breach_notify"),
    path("breaches/<int:pk>/progress/", views.breach_progress_view, name="breach_progress"),
]
