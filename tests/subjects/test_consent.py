"""Explicit consent (açık rıza) and privacy notices (C10): how consents arrive, what their
withdrawal stops at once, and the special-category gate on every write path."""

import base64
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django_tenants.utils import tenant_context

from audit.models import AuditEntry
from config.errors import PortalError
from subjects import selectors, services, validation
from subjects.models import Consent, DataSubject, PersonalDataItem, PrivacyNotice
from subjects.validation import RecordErrors, records_validate
from tests.subjects.conftest import TCKN_AYSE, TCKN_MEHMET, subject_record
from tests.subjects.test_csv_import import _confirm, _job, _upload, csv_bytes, eager, row

__all__ = ["eager"]  # the fixture, used by the CSV tests below

PDF = b"%PDF-1.4\n% consent form, signed\n"
YESTERDAY = timezone.now() - timedelta(days=1)


def _tr(message, **params) -> str:
    with translation.override("tr"):
        return str(message % params if params else message)


def _subject(tckn=TCKN_AYSE, **overrides) -> DataSubject:
    inputs = records_validate(records=[subject_record(tckn, **overrides)])
    result = services.register_ingest(inputs=inputs, source="test")
    return DataSubject.objects.get(uuid=result.subjects[0])


def _consent(subject, *, purpose="customer_service", given=None, **extra) -> Consent:
    raw = {
        "purpose": purpose,
        "channel": extra.pop("channel", "web_form"),
        "given_at": (given or YESTERDAY).isoformat(),
        "evidence_reference": extra.pop("evidence_reference", "FORM-2026-0042"),
        **extra,
    }
    return services.consent_record(subject=subject, raw=raw)


def health(basis="art5_1", **extra) -> dict:
    return {
        "category": "health",
        "purpose": "customer_service",
        "legal_basis": basis,
        "source_system": "crm",
        "value": "Gluten intoleransı",
        "collected_at": "2025-03-01T10:00:00+03:00",
        **extra,
    }


def consent_body(**extra) -> dict:
    return {
        "purpose": "customer_service",
        "channel": "call_centre",
        "given_at": "2025-02-28T10:00:00+03:00",
        "evidence_reference": "CAGRI-99812",
        **extra,
    }


def _refusals(tenant) -> list[AuditEntry]:
    with tenant_context(tenant):
        return list(AuditEntry.objects.filter(detail__event="consent_gate_refused").order_by("pk"))


def _items(tenant) -> int:
    with tenant_context(tenant):
        return PersonalDataItem.objects.count()


# --- the selector the transfer log relies on --------------------------------------------


def test_a_recorded_consent_is_valid_for_its_purpose_and_no_other(acme):
    with tenant_context(acme):
        ayse, mehmet = _subject(), _subject(TCKN_MEHMET)
        _consent(ayse)
        assert selectors.consent_valid(
            subject_ids=[ayse.pk, mehmet.pk], purpose="customer_service"
        ) == {ayse.pk}
        assert selectors.consent_valid(subject_ids=[ayse.pk], purpose="marketing") == set()


def test_a_consent_is_not_valid_before_it_was_given(acme):
    with tenant_context(acme):
        ayse = _subject()
        consent = _consent(ayse)
        earlier = consent.given_at - timedelta(minutes=1)
        assert (
            selectors.consent_valid(subject_ids=[ayse.pk], purpose=consent.purpose, at=earlier)
            == set()
        )


def test_a_withdrawn_consent_is_no_longer_valid_but_was_before(acme):
    with tenant_context(acme):
        ayse = _subject()
        consent = _consent(ayse)
        services.consent_withdraw(consent=consent)
        assert selectors.consent_valid(subject_ids=[ayse.pk], purpose=consent.purpose_id) == set()
        before = consent.given_at + timedelta(minutes=1)
        assert selectors.consent_valid(
            subject_ids=[ayse.pk], purpose="customer_service", at=before
        ) == {ayse.pk}


# --- withdrawal: effective at once ----------------------------------------------------


def test_withdrawal_flags_the_items_the_consent_covered_and_no_others(acme):
    with tenant_context(acme):
        ayse = _subject()
        consent = _consent(ayse)
        on_consent = services.items_add(
            subject=ayse, raw_items=[health(), {**health(), "category": "contact"}]
        )
        contract = PersonalDataItem.objects.get(subject=ayse, legal_basis="art5_2_c")

        services.consent_withdraw(consent=consent)

        flagged = set(
            PersonalDataItem.objects.filter(consent_withdrawn_at__isnull=False).values_list(
                "pk", flat=True
            )
        )
        assert flagged == {item.pk for item in on_consent}
        assert contract.pk not in flagged
        entry = AuditEntry.objects.filter(detail__event="consent_withdrawn").get()
        assert sorted(entry.detail["items_flagged"]) == sorted(flagged)


def test_after_withdrawal_new_and_changed_items_on_that_consent_are_refused(acme):
    with tenant_context(acme):
        ayse = _subject()
        consent = _consent(ayse)
        ordinary = services.items_add(
            subject=ayse, raw_items=[{**health(), "category": "contact"}]
        )[0]
        services.consent_withdraw(consent=consent)

        with pytest.raises(RecordErrors) as refused:
            services.items_add(subject=ayse, raw_items=[{**health(), "category": "contact"}])
        assert refused.value.errors == {"items[0].legal_basis": [str(validation.CONSENT_WITHDRAWN)]}
        with pytest.raises(RecordErrors):
            services.item_update(item=ordinary, value="Yeni adres")
        # another basis is still possible
        services.item_update(item=ordinary, legal_basis="art5_2_c")


def test_a_consent_is_withdrawn_once_and_never_before_it_was_given(acme):
    with tenant_context(acme):
        consent = _consent(_subject())
        with pytest.raises(RecordErrors) as early:
            services.consent_withdraw(
                consent=consent, withdrawn_at=(consent.given_at - timedelta(days=1)).isoformat()
            )
        assert early.value.errors == {"withdrawn_at": [str(validation.WITHDRAWN_BEFORE_GIVEN)]}
        services.consent_withdraw(consent=consent)
        with pytest.raises(PortalError) as twice:
            services.consent_withdraw(consent=consent)
        assert twice.value.code == "already_withdrawn"


# --- the special-category gate: service and API --------------------------------------


def test_a_special_category_without_consent_is_refused_logged_and_nothing_is_saved(api, acme):
    record = subject_record(items=[health()])
    response = api.post(reverse("api:subject_upsert"), record)

    assert response.status_code == 400
    message = _tr(validation.SPECIAL_WITHOUT_CONSENT, category="Sağlık")
    assert response.json()["error"]["fields"]["items[0].legal_basis"] == [message]
    assert _items(acme) == 0
    (entry,) = _refusals(acme)
    assert entry.detail["items"] == [
        {
            "subject": "new",
            "category": "health",
            "purpose": "customer_service",
            "reason": "special_category_without_consent",
        }
    ]


def test_a_special_category_on_an_art_6_3_ground_needs_no_consent(api, acme):
    record = subject_record(items=[health("art6_3")])
    assert api.post(reverse("api:subject_upsert"), record).status_code == 201
    assert _refusals(acme) == []


def test_an_api_refusal_is_logged_even_when_the_write_is_idempotent(api, acme):
    record = subject_record(items=[health()])
    response = api.post(
        reverse("api:subject_upsert"), record, HTTP_IDEMPOTENCY_KEY="f1d0c8e6-refused"
    )
    assert response.status_code == 400
    assert len(_refusals(acme)) == 1 and _items(acme) == 0


def test_items_added_through_the_api_need_a_valid_consent(api, acme):
    with tenant_context(acme):
        ayse = _subject()
    url = reverse("api:items_add", args=[ayse.uuid])
    assert api.post(url, {"items": [health()]}).status_code == 400
    assert len(_refusals(acme)) == 1
    consent = api.post(reverse("api:consents", args=[ayse.uuid]), consent_body())
    assert consent.status_code == 201, consent.content
    assert api.post(url, {"items": [health()]}).status_code == 201


def test_bulk_refuses_the_whole_batch_naming_each_subject_without_consent(api, acme):
    with tenant_context(acme):
        mehmet = _subject(TCKN_MEHMET)
        _consent(mehmet)
    records = [
        subject_record(items=[health()]),  # new, no consent
        subject_record(TCKN_MEHMET, items=[health()]),  # stored, consented
        subject_record("10000000078", items=[health()], consents=[consent_body()]),  # brings one
    ]
    response = api.post(reverse("api:bulk"), {"subjects": records})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["subjects[0].items[0].legal_basis"]
    assert _items(acme) == 1  # Mehmet's own item from before
    records.pop(0)
    assert api.post(reverse("api:bulk"), {"subjects": records}).status_code == 201
    assert _items(acme) == 3


def test_the_gate_reads_the_consents_of_a_whole_batch_in_one_query(acme):
    with tenant_context(acme):
        people = [_subject(tckn) for tckn in (TCKN_AYSE, TCKN_MEHMET, "10000000078")]
        for person in people[:2]:
            _consent(person)
        inputs = records_validate(records=[subject_record(items=[health()])] * 30)
        ids = [people[n % 3].pk for n in range(30)]

        rows = validation.record_gate_rows(inputs=inputs, subject_ids=ids)
        with (
            CaptureQueriesContext(connection) as queries,
            pytest.raises(validation.ConsentRefused) as refused,
        ):
            validation.consent_gate(rows=rows)
        assert len(queries.captured_queries) == 1
        # only the ten records of the subject without a consent are refused
        assert sorted(refused.value.errors) == sorted(
            f"subjects[{n}].items[0].legal_basis" for n in range(2, 30, 3)
        )


# --- consents through the API --------------------------------------------------------


def test_a_consent_with_an_evidence_file_is_stored_encrypted_and_listed(api, acme):
    with tenant_context(acme):
        ayse = _subject()
        notice = services.notice_publish(title="Aydınlatma Metni", text="Verileriniz…")
    body = consent_body(
        notice_version=notice.version,
        evidence_reference="",
        evidence={"name": "rıza-formu.pdf", "content_base64": base64.b64encode(PDF).decode()},
    )
    response = api.post(reverse("api:consents", args=[ayse.uuid]), body)

    assert response.status_code == 201, response.content
    assert response.json()["has_evidence_file"] and response.json()["notice_version"] == 1
    with tenant_context(acme):
        consent = Consent.objects.get()

        with default_storage.open(consent.evidence_path) as handle:
            assert PDF not in handle.read()
        name, content = services.consent_evidence_export(consent=consent, purpose="audit")
        assert (name, content) == ("rıza-formu.pdf", PDF)
    view = api.get(reverse("api:subject", args=[ayse.uuid]), {"purpose": "müşteri talebi"})
    (listed,) = view.json()["consents"]
    assert listed["purpose_code"] == "customer_service" and listed["valid"] is True


def test_a_consent_is_withdrawn_through_the_api_and_transfers_can_no_longer_rely_on_it(api, acme):
    with tenant_context(acme):
        ayse = _subject()
        consent = _consent(ayse)
    response = api.post(reverse("api:consent_withdraw", args=[consent.uuid]), {})
    assert response.status_code == 200 and response.json()["withdrawn_at"]
    with tenant_context(acme):
        assert selectors.consent_valid(subject_ids=[ayse.pk], purpose="customer_service") == set()
    again = api.post(reverse("api:consent_withdraw", args=[consent.uuid]), {})
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"purpose": "resale"}, "purpose", None),
        ({"channel": "pigeon"}, "channel", None),
        ({"given_at": ""}, "given_at", validation.GIVEN_REQUIRED),
        ({"withdrawn_at": "2025-02-01T10:00:00+03:00"}, "withdrawn_at",
         validation.WITHDRAWN_BEFORE_GIVEN),
        ({"evidence_reference": ""}, "evidence_reference", validation.EVIDENCE_REQUIRED),
        ({"notice_version": 7}, "notice_version", None),
    ],
)  # fmt: skip
def test_bad_consent_input_is_refused_next_to_its_field_and_nothing_is_stored(
    api, acme, change, field, message
):
    with tenant_context(acme):
        ayse = _subject()
    response = api.post(reverse("api:consents", args=[ayse.uuid]), consent_body(**change))
    assert response.status_code == 400
    messages = response.json()["error"]["fields"][field]
    if message is not None:
        assert messages == [_tr(message)]
    with tenant_context(acme):
        assert not Consent.objects.exists()


def test_evidence_too_large_or_not_a_document_is_refused(api, acme, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    with tenant_context(acme):
        ayse = _subject()
    url = reverse("api:consents", args=[ayse.uuid])
    large = {"name": "a.pdf", "content_base64": base64.b64encode(PDF + b"x" * 2000).decode()}
    exe = {"name": "a.pdf", "content_base64": base64.b64encode(b"MZ\x90\x00binary").decode()}
    assert api.post(url, consent_body(evidence=large)).json()["error"]["fields"]["evidence"]
    wrong = api.post(url, consent_body(evidence=exe)).json()["error"]["fields"]["evidence"]
    assert wrong == [_tr(services.EVIDENCE_WRONG_TYPE)]
    with tenant_context(acme):
        assert not Consent.objects.exists()


def test_another_controllers_subjects_and_consents_are_out_of_reach(api, globex_api, acme):
    with tenant_context(acme):
        ayse = _subject()
        consent = _consent(ayse)
    assert (
        globex_api.post(reverse("api:consents", args=[ayse.uuid]), consent_body()).status_code
        == 404
    )
    assert (
        globex_api.post(reverse("api:consent_withdraw", args=[consent.uuid]), {}).status_code == 404
    )
    with tenant_context(acme):
        consent.refresh_from_db()
        assert consent.withdrawn_at is None


# --- CSV -------------------------------------------------------------------------------


def test_a_csv_row_on_explicit_consent_for_a_special_category_needs_the_consent_columns(
    colleague, acme, eager, django_capture_on_commit_callbacks
):
    without = row(**health())
    with_consent = row(
        **health(),
        name="Mehmet Demir",
        tckn=TCKN_MEHMET,
        email="mehmet@example.com.tr",
        consent_given_at="2025-02-28T10:00:00+03:00",
        consent_channel="paper",
        consent_reference="FORM-7",
    )
    _upload(colleague, csv_bytes([without, with_consent]))
    _confirm(colleague, _job(acme), "valid_only", django_capture_on_commit_callbacks)

    job = _job(acme)
    assert (job.imported_subjects, job.imported_items) == (1, 1)
    with tenant_context(acme):
        (consent,) = Consent.objects.all()
        assert consent.channel == "paper" and consent.evidence_reference == "FORM-7"
    report = colleague.get(reverse("subjects:csv_report", args=[job.uuid])).content.decode()
    assert "hukuki_sebep: " + _tr(validation.SPECIAL_WITHOUT_CONSENT, category="Sağlık") in report
    assert len(_refusals(acme)) == 1


def test_a_csv_all_or_nothing_import_refused_by_the_gate_stores_nothing_but_logs_it(
    colleague, acme, eager, django_capture_on_commit_callbacks
):
    _upload(colleague, csv_bytes([row(), row(**health(), name="X", tckn=TCKN_MEHMET, email="")]))
    _confirm(colleague, _job(acme), "all_or_nothing", django_capture_on_commit_callbacks)
    assert _job(acme).status == "failed"
    assert _items(acme) == 0
    assert len(_refusals(acme)) == 1


def test_a_csv_consent_only_row_with_a_bad_channel_is_named_by_its_column(colleague, acme):
    bad = row(
        category="", legal_basis="", source_system="", value="", collected_at="",
        consent_given_at="2025-02-28T10:00:00+03:00", consent_channel="güvercin",
        consent_reference="F-1",
    )  # fmt: skip
    _upload(colleague, csv_bytes([bad]))
    errors = _job(acme).row_errors["2"]
    assert len(errors) == 1 and errors[0].startswith("rıza_kanalı: ")


def test_csv_consent_columns_are_recognised_in_english_too(colleague, acme):
    data = csv_bytes([row(consent_given_at="2025-02-28T10:00:00+03:00", consent_channel="paper",
                          consent_reference="F-1")])  # fmt: skip
    _upload(colleague, data)
    assert _job(acme).row_errors == {}
    with translation.override("tr"):
        turkish = csv_bytes([])  # the Turkish template's headers are accepted as well
    assert turkish


# --- privacy notices -----------------------------------------------------------------


def test_each_published_notice_is_a_new_version_and_old_ones_stay_as_they_were(acme):
    with tenant_context(acme):
        first = services.notice_publish(title="Aydınlatma Metni", text="İlk metin")
        second = services.notice_publish(title="Aydınlatma Metni", text="Güncel metin")
        assert (first.version, second.version) == (1, 2)
        first.refresh_from_db()
        assert first.text == "İlk metin"
        assert selectors.notice_current() == second
        with pytest.raises(RecordErrors):
            services.notice_publish(title="", text="")
        assert PrivacyNotice.objects.count() == 2


# --- the portal ----------------------------------------------------------------------


def _portal_consent(client, subject, **extra):
    data = {
        "consent-purpose": "customer_service",
        "consent-channel": "paper",
        "consent-given_at": "2025-02-28T10:00",
        "consent-notice_version": "",
        "consent-evidence_reference": "",
        **extra,
    }
    return client.post(reverse("subjects:consent_create", args=[subject.uuid]), data)


def _portal_item(client, subject, basis="art5_1"):
    return client.post(
        reverse("subjects:item_add", args=[subject.uuid]),
        {
            "item-category": "health",
            "item-purpose": "customer_service",
            "item-legal_basis": basis,
            "item-value": "Gluten intoleransı",
            "item-source_system": "portal",
            "item-collected_at": "2025-03-01T10:00",
        },
    )


def test_staff_record_a_consent_with_its_signed_form_and_read_it_back(colleague, acme):
    with tenant_context(acme):
        ayse = _subject()
    form = SimpleUploadedFile("imzali-form.pdf", PDF, content_type="application/pdf")
    response = _portal_consent(colleague, ayse, **{"consent-evidence": form})
    assert response.status_code == 302
    page = colleague.get(reverse("subjects:detail", args=[ayse.uuid])).content.decode()
    assert "Kağıt form" in page and "geçerli" in page
    read = colleague.post(
        reverse("subjects:detail", args=[ayse.uuid]), {"purpose": "rıza kontrolü"}
    )
    read_page = colleague.get(read["Location"]).content.decode()
    assert "imzali-form.pdf" in read_page
    with tenant_context(acme):
        consent = Consent.objects.get()
    link = reverse(
        "subjects:consent_evidence", args=[ayse.uuid, read["Location"].split("/")[-2], consent.uuid]
    )
    download = colleague.get(link)
    assert download.status_code == 200 and download.content == PDF


def test_the_portal_refuses_a_consent_without_evidence_or_with_a_program_as_evidence(
    colleague, acme
):
    with tenant_context(acme):
        ayse = _subject()
    none = _portal_consent(colleague, ayse)
    assert none.status_code == 400
    assert _tr(validation.EVIDENCE_REQUIRED) in none.content.decode()
    program = SimpleUploadedFile("form.pdf", b"MZ\x90\x00", content_type="application/pdf")
    wrong = _portal_consent(colleague, ayse, **{"consent-evidence": program})
    assert _tr(services.EVIDENCE_WRONG_TYPE) in wrong.content.decode()
    with tenant_context(acme):
        assert not Consent.objects.exists()


def test_the_portal_gate_refuses_special_data_without_consent_and_accepts_it_after(colleague, acme):
    with tenant_context(acme):
        ayse = _subject()
    refused = _portal_item(colleague, ayse)
    assert refused.status_code == 400
    assert _tr(validation.SPECIAL_WITHOUT_CONSENT, category="Sağlık") in refused.content.decode()
    assert _items(acme) == 1 and len(_refusals(acme)) == 1

    assert _portal_item(colleague, ayse, basis="art6_3").status_code == 302
    _portal_consent(colleague, ayse, **{"consent-evidence_reference": "FORM-1"})
    assert _portal_item(colleague, ayse).status_code == 302
    assert _items(acme) == 3


def test_withdrawing_in_the_portal_flags_the_items_and_shows_on_the_dashboard(
    colleague, owner, acme
):
    with tenant_context(acme):
        ayse = _subject()
        consent = _consent(ayse)
        (item,) = services.items_add(subject=ayse, raw_items=[health()])
    response = colleague.post(reverse("subjects:consent_withdraw", args=[ayse.uuid, consent.uuid]))
    assert response.status_code == 302
    with tenant_context(acme):
        item.refresh_from_db()
        assert item.consent_withdrawn_at is not None
    dashboard = owner.get(reverse("dashboard")).content.decode()
    assert "Son 30 günde geri alınan rızalar" in dashboard
    assert "Sağlık" in dashboard and 'id="consents-withdrawn"' in dashboard


def test_auditors_see_consents_but_cannot_record_or_withdraw_them(auditor, acme):
    with tenant_context(acme):
        ayse = _subject()
        consent = _consent(ayse)
    page = auditor.get(reverse("subjects:detail", args=[ayse.uuid])).content.decode()
    assert "FORM-2026-0042" in page and 'id="consent-form"' not in page
    assert _portal_consent(auditor, ayse, **{"consent-evidence_reference": "X"}).status_code == 403
    withdraw = auditor.post(reverse("subjects:consent_withdraw", args=[ayse.uuid, consent.uuid]))
    assert withdraw.status_code == 403
    with tenant_context(acme):
        consent.refresh_from_db()
        assert consent.withdrawn_at is None and Consent.objects.count() == 1


def test_another_controller_cannot_reach_a_subjects_consents_in_the_portal(outsider, acme):
    with tenant_context(acme):
        ayse = _subject()
        consent = _consent(ayse)
    assert (
        outsider.post(
            reverse("subjects:consent_withdraw", args=[ayse.uuid, consent.uuid])
        ).status_code
        == 404
    )
    assert _portal_consent(outsider, ayse, **{"consent-evidence_reference": "X"}).status_code == 404
    with tenant_context(acme):
        consent.refresh_from_db()
        assert consent.withdrawn_at is None


def test_controller_admins_publish_notice_versions_others_only_read_them(owner, colleague, acme):
    url = reverse("subjects:notices")
    assert owner.post(url, {"title": "Aydınlatma Metni", "text": "Sürüm bir"}).status_code == 302
    assert owner.post(url, {"title": "Aydınlatma Metni", "text": "Sürüm iki"}).status_code == 302
    assert colleague.post(url, {"title": "X", "text": "Y"}).status_code == 403
    assert owner.post(url, {"title": "", "text": ""}).status_code == 400
    first = colleague.get(reverse("subjects:notice", args=[1])).content.decode()
    assert "Sürüm bir" in first
    listing = colleague.get(url).content.decode()
    assert "v2" in listing and 'id="notice-form"' not in listing
    with tenant_context(acme):
        assert list(PrivacyNotice.objects.values_list("version", flat=True)) == [2, 1]


def test_destroying_a_subject_removes_its_consent_evidence_files(acme):
    with tenant_context(acme):
        ayse = _subject()
        consent = services.consent_record(
            subject=ayse,
            raw={"purpose": "customer_service", "channel": "paper", "given_at": YESTERDAY},
            evidence=PDF,
            evidence_name="form.pdf",
        )
        path = consent.evidence_path
        assert default_storage.exists(path)
        services.subject_key_destroy(subject=ayse, reason="test")
        consent.refresh_from_db()
        assert not default_storage.exists(path) and consent.evidence_path == ""
        assert selectors.consent_valid(subject_ids=[ayse.pk], purpose="customer_service") == set()
