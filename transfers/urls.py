from django.urls import path

from transfers import disclosure_views, views

app_name = "transfers"

urlpatterns = [
    path("", views.index_view, name="index"),
    path("recipients/", views.recipient_list_view, name="recipients"),
    path("recipients/new/", views.recipient_create_view, name="recipient_create"),
    path("recipients/<int:pk>/", views.recipient_edit_view, name="recipient_edit"),
    path("log/", views.transfer_list_view, name="log"),
    path("log/new/", views.transfer_create_view, name="transfer_create"),
    *disclosure_views.urlpatterns,
]
