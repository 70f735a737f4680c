from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from subjects.api import views

app_name = "api"

_open = {"authentication_classes": [], "permission_classes": [AllowAny]}

# Swagger UI only: ReDoc builds its page with inline styles and a web worker from a blob,
# which our content-security policy forbids.
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(**_open), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema", **_open), name="docs"),
    path("subjects/", views.SubjectUpsertView.as_view(), name="subject_upsert"),
    path("subjects/bulk/", views.BulkView.as_view(), name="bulk"),
    path("subjects/lookup/", views.LookupView.as_view(), name="lookup"),
    path("subjects/<uuid:uuid>/", views.SubjectDetailView.as_view(), name="subject"),
    path("subjects/<uuid:uuid>/items/", views.ItemsAddView.as_view(), name="items_add"),
    path(
        "subjects/<uuid:uuid>/interactions/",
        views.InteractionCreateView.as_view(),
        name="interactions",
    ),
    path("subjects/<uuid:uuid>/consents/", views.ConsentCreateView.as_view(), name="consents"),
    path(
        "consents/<uuid:uuid>/withdraw/",
        views.ConsentWithdrawView.as_view(),
        name="consent_withdraw",
    ),
    path("items/<int:pk>/", views.ItemUpdateView.as_view(), name="item"),
]
