from django.urls import path

from subjects.views import consent, csv_import, inventory, register, tokens

app_name = "subjects"

urlpatterns = [
    path("", register.subject_list_view, name="index"),
    path("<uuid:uuid>/", register.subject_detail_view, name="detail"),
    path("<uuid:uuid>/read/<str:grant>/", register.subject_read_view, name="read"),
    path(
        "<uuid:uuid>/relationship-end/",
        register.relationship_end_view,
        name="relationship_end",
    ),
    path("<uuid:uuid>/consents/", consent.consent_create_view, name="consent_create"),
    path(
        "<uuid:uuid>/consents/<uuid:consent>/withdraw/",
        consent.consent_withdraw_view,
        name="consent_withdraw",
    ),
    path(
        "<uuid:uuid>/read/<str:grant>/consents/<uuid:consent>/evidence/",
        consent.consent_evidence_view,
        name="consent_evidence",
    ),
    path("<uuid:uuid>/items/", consent.item_add_view, name="item_add"),
    path("notices/", consent.notice_list_view, name="notices"),
    path("notices/<int:version>/", consent.notice_detail_view, name="notice"),
    path("attachment/<str:token>/", register.attachment_view, name="attachment"),
    path("import/", csv_import.upload_view, name="csv_upload"),
    path("import/template.csv", csv_import.template_view, name="csv_template"),
    path("import/<uuid:uuid>/", csv_import.detail_view, name="csv_detail"),
    path("import/<uuid:uuid>/progress/", csv_import.progress_fragment_view, name="csv_progress"),
    path("import/<uuid:uuid>/cancel/", csv_import.cancel_view, name="csv_cancel"),
    path("import/<uuid:uuid>/report.csv", csv_import.report_view, name="csv_report"),
    path("inventory/", inventory.inventory_view, name="inventory"),
    *(
        route
        for section in inventory.SECTIONS
        for route in (
            path(
                f"inventory/{section}/new/",
                inventory.entry_create_view,
                {"section": section},
                name=f"inventory_{section}_new",
            ),
            path(
                f"inventory/{section}/<slug:code>/",
                inventory.entry_view,
                {"section": section},
                name=f"inventory_{section}",
            ),
        )
    ),
    path("api-tokens/", tokens.token_list_view, name="tokens"),
    path("api-tokens/<int:pk>/revoke/", tokens.token_revoke_view, name="token_revoke"),
]
