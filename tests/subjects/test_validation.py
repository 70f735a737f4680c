"""Bad input on every way into the register: a clear message where it belongs, nothing stored."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from django_tenants.utils import tenant_context

from subjects import services, validation, validators
from subjects.models import DataSubject, PersonalDataItem
from tests.subjects.conftest import TCKN_AYSE, subject_record
from tests.subjects.test_csv_import import _job, _upload, csv_bytes, row

SUPERSCRIPT_TCKN = "1000000014²"
ARABIC_INDIC_TCKN = "١٠٠٠٠٠٠٠١٤٦"  # 10000000146 in Arabic-Indic digits
ARABIC_INDIC_PHONE = "+٩٠ ٥٣٢ ١٢٣ ٤٥ ٦٧"  # +90 532 123 45 67
IMPOSSIBLE_DATE = "2025-02-30T10:00:00+03:00"


def _tr(message, params=None) -> str:
    with translation.override("tr"):
        return str(message) % params if params else str(message)


def _counts(tenant) -> tuple[int, int]:
    with tenant_context(tenant):
        return DataSubject.objects.count(), PersonalDataItem.objects.count()


@pytest.mark.parametrize(
    ("normalize", "value"),
    [
        (validators.normalize_tckn, SUPERSCRIPT_TCKN),
        (validators.normalize_tckn, ARABIC_INDIC_TCKN),
        (validators.normalize_phone, ARABIC_INDIC_PHONE),
        (validators.normalize_phone, "0532 123 45 6٧"),
        (validators.normalize_customer_no, "M-٠٠٠٠٠١"),
        (validators.normalize_passport, "DE:C01X00T4٧"),
    ],
)
def test_identifiers_with_digits_other_than_ascii_are_refused(normalize, value):
    with pytest.raises(ValidationError):
        normalize(value)


@pytest.mark.parametrize(
    ("identifiers", "field", "message"),
    [
        ({"tckn": SUPERSCRIPT_TCKN}, "identifiers.tckn", validators.TCKN_INVALID),
        ({"tckn": ARABIC_INDIC_TCKN}, "identifiers.tckn", validators.TCKN_INVALID),
        ({"phone": ARABIC_INDIC_PHONE}, "identifiers.phone", validators.PHONE_INVALID),
    ],
)
def test_an_identifier_in_other_digits_is_a_field_error_not_a_crash(
    api, acme, identifiers, field, message
):
    response = api.post(reverse("api:subject_upsert"), subject_record(identifiers=identifiers))

    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"][field] == [_tr(message)]
    assert _counts(acme) == (0, 0)


def test_the_same_person_in_arabic_indic_digits_is_not_stored_a_second_time(api, acme):
    api.post(reverse("api:subject_upsert"), subject_record(identifiers={"tckn": TCKN_AYSE}))

    again = api.post(
        reverse("api:subject_upsert"), subject_record(identifiers={"tckn": ARABIC_INDIC_TCKN})
    )

    assert again.status_code == 400
    assert _counts(acme) == (1, 1)


def test_a_superscript_digit_is_a_row_error_in_the_csv_preview(colleague, acme):
    response = _upload(colleague, csv_bytes([row(tckn=SUPERSCRIPT_TCKN)]))

    assert response.status_code == 302
    assert _job(acme).row_errors == {"2": [f"tckn: {_tr(validators.TCKN_INVALID)}"]}


@pytest.mark.parametrize("path", ["api:subject_upsert", "api:bulk"])
def test_an_impossible_date_is_a_field_error_in_the_api(api, acme, path):
    record = subject_record()
    record["items"][0]["collected_at"] = IMPOSSIBLE_DATE
    body = record if path == "api:subject_upsert" else {"subjects": [record]}

    response = api.post(reverse(path), body)

    assert response.status_code == 400
    prefix = "" if path == "api:subject_upsert" else "subjects[0]."
    assert response.json()["error"]["fields"] == {
        f"{prefix}items[0].collected_at": [_tr(validation.INVALID_MOMENT)]
    }
    assert _counts(acme) == (0, 0)


@pytest.mark.parametrize("column", ["collected_at", "last_used_at"])
@pytest.mark.parametrize("moment", [IMPOSSIBLE_DATE, "2025-02-30 10:00", "2025-02-30"])
def test_an_impossible_date_is_a_row_error_in_the_csv_preview(colleague, acme, column, moment):
    response = _upload(colleague, csv_bytes([row(**{column: moment})]))

    assert response.status_code == 302
    job = _job(acme)
    assert (job.total_rows, job.valid_rows) == (1, 0)
    [message] = job.row_errors["2"]
    assert message.endswith(_tr(validation.INVALID_MOMENT))


def _without_collected_at() -> dict:
    record = subject_record()
    del record["items"][0]["collected_at"]
    return record


def test_an_item_without_a_collection_time_is_refused_by_the_api(api, acme):
    upsert = api.post(reverse("api:subject_upsert"), _without_collected_at())
    bulk = api.post(reverse("api:bulk"), {"subjects": [_without_collected_at()]})

    assert upsert.status_code == bulk.status_code == 400
    assert upsert.json()["error"]["fields"] == {
        "items[0].collected_at": [_tr(validation.COLLECTED_REQUIRED)]
    }
    assert bulk.json()["error"]["fields"] == {
        "subjects[0].items[0].collected_at": [_tr(validation.COLLECTED_REQUIRED)]
    }
    assert _counts(acme) == (0, 0)


def test_items_added_without_a_collection_time_are_refused(api, acme):
    uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]

    response = api.post(
        reverse("api:items_add", args=[uuid]), {"items": _without_collected_at()["items"]}
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "items[0].collected_at": [_tr(validation.COLLECTED_REQUIRED)]
    }
    with tenant_context(acme):
        subject = DataSubject.objects.get(uuid=uuid)
        with pytest.raises(validation.RecordErrors):
            services.items_add(subject=subject, raw_items=_without_collected_at()["items"])
    assert _counts(acme) == (1, 1)


def test_a_csv_row_without_a_collection_time_is_a_row_error(colleague, acme):
    _upload(colleague, csv_bytes([row(collected_at="")]))

    job = _job(acme)
    assert (job.total_rows, job.valid_rows) == (1, 0)
    [message] = job.row_errors["2"]
    assert message.endswith(_tr(validation.COLLECTED_REQUIRED))
