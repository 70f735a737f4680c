"""The end of the customer relationship (retention periods may count from it): set and
cleared through the API, the CSV import and the subject's page; never in the future."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django_tenants.utils import tenant_context

import config.celery
from subjects import csv_import, validation
from subjects.csv_import import COLUMNS
from subjects.models import CsvImport, DataSubject
from tests.subjects.conftest import TCKN_AYSE, subject_record

ENDED = "2025-06-30T18:00:00+03:00"
ENDED_AT = datetime(2025, 6, 30, 15, 0, tzinfo=UTC)


def _tr(message) -> str:
    with translation.override("tr"):
        return str(message)


def _stored(tenant, uuid) -> datetime | None:
    with tenant_context(tenant):
        return DataSubject.objects.get(uuid=uuid).relationship_ended_at


def _future() -> str:
    return (timezone.now() + timedelta(days=2)).isoformat()


def test_a_subject_is_created_with_its_relationship_end_and_the_api_says_it(api, acme):
    created = api.post(reverse("api:subject_upsert"), subject_record(relationship_ended_at=ENDED))

    uuid = created.json()["subjects"][0]
    assert created.status_code == 201 and _stored(acme, uuid) == ENDED_AT
    read = api.get(reverse("api:subject", args=[uuid]), {"purpose": "test okuması"})
    assert datetime.fromisoformat(read.json()["relationship_ended_at"]) == ENDED_AT


def test_a_matching_record_sets_the_end_and_leaving_it_out_keeps_it(api, acme):
    uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]
    assert _stored(acme, uuid) is None

    api.post(reverse("api:subject_upsert"), subject_record(relationship_ended_at=ENDED))
    assert _stored(acme, uuid) == ENDED_AT
    api.post(reverse("api:subject_upsert"), subject_record())
    assert _stored(acme, uuid) == ENDED_AT

    with tenant_context(acme):
        history = DataSubject.objects.get(uuid=uuid).history.order_by("history_id")
        assert [row.history_type for row in history] == ["+", "~"]
        assert history.last().relationship_ended_at == ENDED_AT


def test_a_patch_sets_and_null_clears_the_end(api, acme):
    uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]

    set_ = api.patch(reverse("api:subject", args=[uuid]), {"relationship_ended_at": ENDED})
    assert set_.status_code == 200
    assert datetime.fromisoformat(set_.json()["relationship_ended_at"]) == ENDED_AT
    assert _stored(acme, uuid) == ENDED_AT

    cleared = api.patch(reverse("api:subject", args=[uuid]), {"relationship_ended_at": None})
    assert cleared.status_code == 200 and cleared.json()["relationship_ended_at"] is None
    assert _stored(acme, uuid) is None


@pytest.mark.parametrize("how", ["create", "patch", "bulk"])
def test_an_end_in_the_future_is_refused_and_nothing_saved(api, acme, how):
    if how == "create":
        response = api.post(
            reverse("api:subject_upsert"), subject_record(relationship_ended_at=_future())
        )
        field = "relationship_ended_at"
    elif how == "bulk":
        response = api.post(
            reverse("api:bulk"), {"subjects": [subject_record(relationship_ended_at=_future())]}
        )
        field = "subjects[0].relationship_ended_at"
    else:
        uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]
        response = api.patch(
            reverse("api:subject", args=[uuid]), {"relationship_ended_at": _future()}
        )
        field = "relationship_ended_at"

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields[field] == [str(validation.RELATIONSHIP_END_IN_FUTURE)]
    with tenant_context(acme):
        assert not DataSubject.objects.exclude(relationship_ended_at=None).exists()
        assert DataSubject.objects.count() == (1 if how == "patch" else 0)


@pytest.mark.parametrize("value", ["yesterday", "2025-02-30T10:00:00+03:00", 12])
def test_an_end_that_is_no_moment_is_refused(api, acme, value):
    response = api.post(reverse("api:subject_upsert"), subject_record(relationship_ended_at=value))

    assert response.status_code == 400
    assert "relationship_ended_at" in response.json()["error"]["fields"]
    with tenant_context(acme):
        assert not DataSubject.objects.exists()


def test_the_api_schema_describes_the_end_in_and_out(api):
    schema = api.get(reverse("api:schema"), {"format": "json"}).json()["components"]["schemas"]

    for name in ("SubjectRecord", "PatchedSubjectUpdate", "SubjectRef", "SubjectView"):
        assert "relationship_ended_at" in schema[name]["properties"], name
        assert schema[name]["properties"]["relationship_ended_at"].get("nullable"), name


# --- CSV -------------------------------------------------------------------------------


def _row(**values) -> dict:
    record = subject_record()
    return {
        "group": "customer",
        "name": record["name"],
        "tckn": TCKN_AYSE,
        **record["items"][0],
        **values,
    }


def _csv(rows: list[dict], headers: list[str] | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers or COLUMNS)
    for values in rows:
        writer.writerow([values.get(column, "") for column in COLUMNS])
    return buffer.getvalue().encode()


def _upload(client, data: bytes):
    return client.post(
        reverse("subjects:csv_upload"),
        {"file": SimpleUploadedFile("kayitlar.csv", data, content_type="text/csv")},
    )


def _job(tenant) -> CsvImport:
    with tenant_context(tenant):
        return CsvImport.objects.latest("created_at")


@pytest.fixture
def eager(monkeypatch):
    monkeypatch.setitem(config.celery.app.conf, "task_always_eager", True)


@pytest.mark.parametrize("language", ["en", "tr"])
def test_a_csv_sets_the_end_under_either_languages_header(
    colleague, acme, eager, django_capture_on_commit_callbacks, language
):
    with translation.override(language):
        from subjects.csv_import import headers

        header_row = headers()
    expected = {"en": "relationship_ended_at", "tr": "ilişki_bitiş_zamanı"}[language]
    assert header_row[COLUMNS.index("relationship_ended_at")] == expected
    _upload(colleague, _csv([_row(relationship_ended_at=ENDED)], header_row))
    job = _job(acme)
    assert job.row_errors == {}

    with django_capture_on_commit_callbacks(execute=True):
        colleague.post(reverse("subjects:csv_detail", args=[job.uuid]), {"mode": "valid_only"})

    with tenant_context(acme):
        assert DataSubject.objects.get().relationship_ended_at == ENDED_AT


def test_a_csv_without_the_column_is_still_accepted(colleague, acme):
    headers = [column for column in COLUMNS if column != "relationship_ended_at"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerow([_row().get(column, "") for column in headers])

    _upload(colleague, buffer.getvalue().encode())

    job = _job(acme)
    assert (job.total_rows, job.valid_rows, job.row_errors) == (1, 1, {})


def test_a_csv_end_in_the_future_is_a_row_error_naming_the_column(colleague, acme):
    _upload(colleague, _csv([_row(relationship_ended_at=_future())]))

    assert _job(acme).row_errors == {
        "2": [f"ilişki_bitiş_zamanı: {_tr(validation.RELATIONSHIP_END_IN_FUTURE)}"]
    }


# --- Portal ----------------------------------------------------------------------------


@pytest.fixture
def subject_uuid(api) -> str:
    return api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]


@pytest.mark.parametrize("member", ["owner", "colleague"])
def test_admins_and_officers_set_and_clear_the_end_on_the_subjects_page(
    member, request, acme, subject_uuid
):
    client = request.getfixturevalue(member)
    url = reverse("subjects:relationship_end", args=[subject_uuid])
    assert url in client.get(reverse("subjects:detail", args=[subject_uuid])).content.decode()

    response = client.post(url, {"end-relationship_ended_at": "2025-06-30T18:00"})

    assert response.status_code == 302
    assert _stored(acme, subject_uuid) == ENDED_AT  # Istanbul time, as the portal shows it
    page = client.get(reverse("subjects:detail", args=[subject_uuid])).content.decode()
    assert "30 Haz 2025 18:00" in page
    client.post(url, {"end-relationship_ended_at": ""})
    assert _stored(acme, subject_uuid) is None
    with tenant_context(acme):
        assert (
            DataSubject.objects.get(uuid=subject_uuid)
            .history.latest("history_date")
            .history_user.username
            == member
        )


def test_an_end_in_the_future_is_refused_on_the_page_and_nothing_saved(owner, acme, subject_uuid):
    future = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")

    response = owner.post(
        reverse("subjects:relationship_end", args=[subject_uuid]),
        {"end-relationship_ended_at": future},
    )

    assert response.status_code == 200
    assert _tr(validation.RELATIONSHIP_END_IN_FUTURE) in response.content.decode()
    assert _stored(acme, subject_uuid) is None


def test_an_auditor_sees_the_end_but_cannot_change_it(auditor, acme, subject_uuid):
    url = reverse("subjects:relationship_end", args=[subject_uuid])

    assert url not in auditor.get(reverse("subjects:detail", args=[subject_uuid])).content.decode()
    assert auditor.post(url, {"end-relationship_ended_at": "2025-06-30T18:00"}).status_code == 403
    assert _stored(acme, subject_uuid) is None


def test_globex_cannot_end_acmes_subject(outsider, acme, subject_uuid):
    url = reverse("subjects:relationship_end", args=[subject_uuid])

    assert outsider.post(url, {"end-relationship_ended_at": "2025-06-30T18:00"}).status_code == 404
    assert _stored(acme, subject_uuid) is None


def test_rows_of_one_subject_with_different_ends_are_refused(colleague, acme):
    rows = [
        _row(relationship_ended_at=ENDED),
        _row(relationship_ended_at="2024-01-01T10:00:00+03:00"),
    ]

    _upload(colleague, _csv(rows))

    assert _job(acme).row_errors == {
        "3": [f"ilişki_bitiş_zamanı: {_tr(csv_import.RELATIONSHIP_END_MISMATCH) % {'row': 2}}"]
    }
