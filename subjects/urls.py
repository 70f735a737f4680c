from django.urls import path

from subjects.views import register, tokens

app_name = "subjects"

urlpatterns = [
    path("", register.subject_list_view, name="index"),
    path("<uuid:uuid>/", register.subject_detail_view, name="detail"),
    path("api-tokens/", tokens.token_list_view, name="tokens"),
    path("api-tokens/<int:pk>/revoke/", tokens.token_revoke_view, name="token_revoke"),
]
