"""CSV import: preview with row errors, then an import the user chose — all valid rows, or all or nothing."""

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django_tenants.utils import tenant_context

import config.celery
from accounts.models import User
from config.errors import PortalError
from subjects import csv_import, services
from subjects.csv_import import (
    COLUMNS,
    FORMULA_CELL,
    NOT_UTF8,
    PREVIEW_EXPIRED,
    csv_import_confirm,
    csv_import_expire_stale,
    formula_risk,
    formula_safe,
)
from subjects.models import CsvImport, DataSubject, PersonalDataItem
from tests.subjects.conftest import TCKN_AYSE, TCKN_MEHMET, subject_record


def row(**values) -> dict:
    """One CSV row: the shared test subject and its one item, flattened into columns."""
    record = subject_record()
    base = {
        "group": record["group"],
        "name": record["name"],
        "tckn": TCKN_AYSE,
        "email": "ayse@example.com.tr",
    }
    base.update(record["items"][0])
    base.update(values)
    return base


def csv_bytes(rows: list[dict], delimiter: str = ",", bom: bool = False) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, delimiter=delimiter)
    writer.writeheader()
    for values in rows:
        writer.writerow({column: values.get(column, "") for column in COLUMNS})
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode()


MEHMET = {"name": "Mehmet Demir", "tckn": TCKN_MEHMET, "email": "mehmet@example.com.tr"}
GOOD_AND_BAD = [
    row(),  # 2
    row(name="Hatalı", tckn="12345678901", email="hatali@example.com.tr"),  # 3: bad TCKN
    row(**MEHMET, purpose="resale"),  # 4: undeclared purpose
    row(**MEHMET, category="shoe_size"),  # 5: unknown category
    row(
        name="Formül", tckn="", email="formul@example.com.tr", value='=HYPERLINK("http://x","y")'
    ),  # 6
]


def _tr(message) -> str:
    with translation.override("tr"):
        return str(message)


def _upload(client, data: bytes, name: str = "kayitlar.csv"):
    return client.post(
        reverse("subjects:csv_upload"),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


def _counts(tenant) -> tuple[int, int]:
    with tenant_context(tenant):
        return DataSubject.objects.count(), PersonalDataItem.objects.count()


@pytest.fixture
def eager(monkeypatch):
    monkeypatch.setitem(config.celery.app.conf, "task_always_eager", True)


def _confirm(client, job, mode, capture):
    with capture(execute=True):
        return client.post(reverse("subjects:csv_detail", args=[job.uuid]), {"mode": mode})


def _job(tenant) -> CsvImport:
    with tenant_context(tenant):
        return CsvImport.objects.latest("created_at")


def test_preview_lists_each_bad_row_and_imports_nothing(colleague, acme):
    response = _upload(colleague, csv_bytes(GOOD_AND_BAD))
    assert response.status_code == 302
    job = _job(acme)
    page = colleague.get(response["Location"]).content.decode()

    assert (job.total_rows, job.valid_rows) == (5, 1)
    assert set(job.row_errors) == {"3", "4", "5", "6"}
    assert any("tckn" in problem and "T.C." in problem for problem in job.row_errors["3"])
    assert any(problem.startswith("amaç:") for problem in job.row_errors["4"])
    assert any(problem.startswith("kategori:") for problem in job.row_errors["5"])
    assert f"değer: {_tr(FORMULA_CELL)}" in job.row_errors["6"]
    assert "5 satır: 1 geçerli, 4 geçersiz." in page
    assert _counts(acme) == (0, 0)
    with tenant_context(acme):
        assert job.sealed_content is not None and b"Ayse" not in bytes(job.sealed_content)


def test_a_file_that_is_not_utf8_is_refused_and_nothing_is_kept(colleague, acme):
    response = _upload(colleague, "group,name\ncustomer,Ayşe Çelik\n".encode("cp1254"))
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [_tr(NOT_UTF8)]
    with tenant_context(acme):
        assert not CsvImport.objects.exists()


def test_semicolons_and_a_bom_from_a_turkish_spreadsheet_are_accepted(colleague, acme):
    _upload(colleague, csv_bytes([row()], delimiter=";", bom=True))
    job = _job(acme)
    assert (job.total_rows, job.valid_rows, job.row_errors) == (1, 1, {})


def test_valid_only_imports_exactly_the_valid_rows_and_reports_the_rest(
    colleague, acme, eager, django_capture_on_commit_callbacks
):
    _upload(colleague, csv_bytes(GOOD_AND_BAD))
    job = _job(acme)

    _confirm(colleague, job, CsvImport.Mode.VALID_ONLY, django_capture_on_commit_callbacks)

    job = _job(acme)
    assert job.status == CsvImport.Status.DONE
    assert (job.imported_subjects, job.imported_items) == (1, 1)
    assert _counts(acme) == (1, 1)
    assert job.sealed_content is None
    report = colleague.get(reverse("subjects:csv_report", args=[job.uuid]))
    assert report.content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert [line[:2] for line in lines[1:]] == [
        ["2", "aktarıldı"],
        ["3", "reddedildi"],
        ["4", "reddedildi"],
        ["5", "reddedildi"],
        ["6", "reddedildi"],
    ]


def test_rows_sharing_an_identifier_become_one_subject_with_several_items(
    colleague, acme, eager, django_capture_on_commit_callbacks
):
    rows = [
        row(),
        row(
            name="",
            tckn="",
            value="Sipariş 2025-1",
            category="customer_transaction",
            purpose="contract",
        ),
        row(**MEHMET),
    ]
    _upload(colleague, csv_bytes(rows))
    _confirm(
        colleague, _job(acme), CsvImport.Mode.ALL_OR_NOTHING, django_capture_on_commit_callbacks
    )
    assert _counts(acme) == (2, 3)


def test_all_or_nothing_refuses_a_file_with_invalid_rows(
    colleague, acme, eager, django_capture_on_commit_callbacks
):
    _upload(colleague, csv_bytes(GOOD_AND_BAD))
    job = _job(acme)

    response = _confirm(
        colleague, job, CsvImport.Mode.ALL_OR_NOTHING, django_capture_on_commit_callbacks
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert _job(acme).status == CsvImport.Status.PREVIEWED
    assert _counts(acme) == (0, 0)


def test_all_or_nothing_with_a_clean_file_imports_everything(
    colleague, acme, eager, django_capture_on_commit_callbacks
):
    _upload(colleague, csv_bytes([row(), row(**MEHMET)]))
    _confirm(
        colleague, _job(acme), CsvImport.Mode.ALL_OR_NOTHING, django_capture_on_commit_callbacks
    )
    assert _job(acme).status == CsvImport.Status.DONE
    assert _counts(acme) == (2, 2)


def test_progress_fragment_polls_until_the_import_ends(
    colleague, acme, eager, django_capture_on_commit_callbacks
):
    _upload(colleague, csv_bytes([row()]))
    job = _job(acme)
    with tenant_context(acme):
        CsvImport.objects.filter(pk=job.pk).update(
            status=CsvImport.Status.RUNNING, total_rows=4, processed_rows=2
        )
    running = colleague.get(reverse("subjects:csv_progress", args=[job.uuid])).content.decode()
    assert 'hx-trigger="every 1s"' in running
    assert "4 satırın 2 tanesi işlendi." in running
    with tenant_context(acme):
        CsvImport.objects.filter(pk=job.pk).update(status=CsvImport.Status.DONE, processed_rows=4)
    done = colleague.get(reverse("subjects:csv_progress", args=[job.uuid])).content.decode()
    assert "hx-trigger" not in done


def test_report_cells_cannot_become_formulas():
    assert formula_safe("=1+1") == "'=1+1"
    assert formula_risk('=HYPERLINK("x")') and formula_risk("@SUM(A1)") and formula_risk("-cmd")
    assert not formula_risk("+90 532 123 45 67") and not formula_risk("-12.5")


def test_auditors_cannot_import(auditor):
    assert auditor.get(reverse("subjects:csv_upload")).status_code == 403


def test_an_import_of_another_tenant_is_not_found(colleague, outsider, acme):
    _upload(colleague, csv_bytes([row()]))
    assert outsider.get(reverse("subjects:csv_detail", args=[_job(acme).uuid])).status_code == 404


TURKISH_HEADERS = [
    "grup", "ad_soyad", "tckn", "pasaport", "e_posta", "telefon", "müşteri_no", "kategori",
    "amaç", "hukuki_sebep", "kaynak_sistem", "değer", "toplanma_zamanı", "son_kullanım_zamanı",
    "ilişki_bitiş_zamanı", "rıza_zamanı", "rıza_kanalı", "rıza_kanıtı", "aydınlatma_sürümü",
]  # fmt: skip


def _as_english(tenant, username: str) -> None:
    with tenant_context(tenant):
        User.objects.filter(username=username).update(language="en")


def test_the_template_headers_are_in_the_users_language(colleague, acme):
    response = colleague.get(reverse("subjects:csv_template"))
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0] == TURKISH_HEADERS and len(lines) == 2

    _as_english(acme, "colleague")
    response = colleague.get(reverse("subjects:csv_template"))
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0] == COLUMNS


def test_a_template_filled_in_is_accepted_in_either_language(colleague, acme):
    for language in ("tr", "en"):
        if language == "en":
            _as_english(acme, "colleague")
        template = colleague.get(reverse("subjects:csv_template")).content

        _upload(colleague, template)

        job = _job(acme)
        assert (job.total_rows, job.valid_rows, job.row_errors) == (1, 1, {}), language


@pytest.mark.parametrize(
    "headers",
    [
        TURKISH_HEADERS,
        [header.upper().replace("I", "İ") for header in TURKISH_HEADERS],  # Turkish capitals
        ["Grup", "Ad Soyad", "TCKN", "Pasaport", "E-posta", "Telefon", "Musteri No", "Kategori",
         "Amac", "Hukuki Sebep", "Kaynak Sistem", "Deger", "Toplanma Zamani",
         "Son Kullanim Zamani"],  # typed without Turkish letters
        [column.upper() for column in COLUMNS],
    ],
)  # fmt: skip
def test_files_with_turkish_or_english_headers_are_accepted(colleague, acme, headers):
    data = csv_bytes([row()]).decode().split("\n", 1)[1]
    _upload(colleague, (",".join(headers) + "\n" + data).encode())
    job = _job(acme)
    assert (job.total_rows, job.valid_rows, job.row_errors) == (1, 1, {})


def test_a_missing_column_is_named_in_the_users_language(colleague, acme):
    data = csv_bytes([row()]).decode()
    without_purpose = "\n".join(
        ",".join(cells[:8] + cells[9:]) for cells in (line.split(",") for line in data.splitlines())
    )
    response = _upload(colleague, without_purpose.encode())
    [message] = response.context["form"].errors["file"]
    assert message.endswith("Eksik olanlar: amaç.") and "grup, ad_soyad, tckn" in message


def test_row_errors_name_the_column_in_the_users_language(colleague, acme):
    _upload(colleague, csv_bytes([row(category="shoe_size")]))
    assert _job(acme).row_errors["2"][0].startswith("kategori: Bilinmeyen veri kategorisi.")

    _as_english(acme, "colleague")
    _upload(colleague, csv_bytes([row(category="shoe_size")]))
    assert _job(acme).row_errors["2"][0].startswith("category: Unknown data category.")


@pytest.mark.parametrize(
    ("cells", "column", "codes"),
    [
        ({"legal_basis": "consent"}, "hukuki_sebep", "art5_1, art5_2_a, art5_2_b, art5_2_c, "
         "art5_2_c2, art5_2_d, art5_2_e, art5_2_f, art6_3"),
        ({"category": "shoe_size"}, "kategori", "contact, customer_transaction, health, identity, "
         "location, marketing"),
        ({"purpose": "resale"}, "amaç", "complaints, contract, customer_service, marketing"),
        ({"group": "vip"}, "grup", "customer, employee, prospect, supplier_contact, visitor"),
    ],
)  # fmt: skip
def test_an_unknown_code_lists_the_allowed_ones(colleague, acme, cells, column, codes):
    _upload(colleague, csv_bytes([row(**cells)]))
    [message] = _job(acme).row_errors["2"]
    assert message.startswith(f"{column}: ") and codes in message


def test_the_unknown_category_message_points_to_the_inventory_page(colleague, acme):
    response = _upload(colleague, csv_bytes([row(category="shoe_size")]))
    page = colleague.get(response["Location"]).content.decode()
    assert "İlgili kişiler → Envanter" in _job(acme).row_errors["2"][0]
    assert f'href="{reverse("subjects:inventory")}#inventory-categories"' in page
    with tenant_context(acme):
        from subjects.models import DataCategory

        DataCategory.objects.create(code="shoe_size", name="Ayakkabı numarası")
    _upload(colleague, csv_bytes([row(category="shoe_size")]))
    assert _job(acme).row_errors == {}


def test_an_admin_is_led_from_an_unknown_category_to_where_categories_are_added(owner, acme):
    response = _upload(owner, csv_bytes([row(category="shoe_size")]))
    page = owner.get(response["Location"]).content.decode()

    assert "Envanter → Veri kategorileri → Ekle" in _job(acme).row_errors["2"][0]
    assert f'href="{reverse("subjects:inventory_categories_new")}"' in page
    assert f'href="{reverse("retention:rules")}"' in page


def test_broken_quotation_is_reported_by_line_and_nothing_is_kept(colleague, acme):
    data = csv_bytes([row()]) + b'customer,"Ay\xc5\x9fe,10000000146\n'
    response = _upload(colleague, data)
    assert response.context["form"].errors["file"] == [
        "Dosyanın 3. satırı geçerli bir CSV değil; tırnak işaretlerini kontrol edin."
    ]
    with tenant_context(acme):
        assert not CsvImport.objects.exists()


OTHER_TCKN = "10000000078"  # a third valid TCKN


def test_a_row_giving_a_shared_subject_a_different_tckn_is_an_error_not_a_merge(colleague, acme):
    # given two rows with the same e-mail but different TCKNs
    rows = [row(), row(name="Başka Kişi", tckn=OTHER_TCKN, value="Başka adres")]

    # when the file is previewed
    _upload(colleague, csv_bytes(rows))

    # then the second row is refused instead of being filed under the first row's subject
    job = _job(acme)
    assert set(job.row_errors) == {"3"}
    assert job.row_errors["3"][0].startswith("tckn: ") and "2" in job.row_errors["3"][0]


def test_identifiers_are_matched_normalised_and_through_other_rows(
    colleague, acme, eager, django_capture_on_commit_callbacks
):
    # given rows of one person: the e-mail in two spellings, the phone in two formats,
    # and a row linked to the first only through the phone of another
    rows = [
        row(email="Ayse@Example.com.tr", phone=""),
        row(tckn="", email="ayse@example.com.tr", phone="0532 123 45 67", value="v2"),
        row(tckn="", email="", phone="+90 532 123 45 67", value="v3"),
    ]
    _upload(colleague, csv_bytes(rows))
    assert _job(acme).row_errors == {}

    # when all of it is imported
    _confirm(
        colleague, _job(acme), CsvImport.Mode.ALL_OR_NOTHING, django_capture_on_commit_callbacks
    )

    # then it is one subject with three items
    assert _job(acme).status == CsvImport.Status.DONE
    assert _counts(acme) == (1, 3)


def test_all_or_nothing_progress_is_visible_while_its_transaction_is_open(
    colleague, acme, eager, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(csv_import, "BATCH_SUBJECTS", 1)
    seen = []
    ingest = services.register_ingest

    def spying_ingest(**kwargs):
        with tenant_context(acme):
            job = CsvImport.objects.get(pk=_job(acme).pk)
            # the row itself is not updated inside the transaction; the cache is
            assert job.processed_rows == 0
            seen.append(csv_import.csv_import_progress(job=job).processed_rows)
        return ingest(**kwargs)

    monkeypatch.setattr(services, "register_ingest", spying_ingest)
    _upload(colleague, csv_bytes([row(), row(**MEHMET)]))
    _confirm(
        colleague, _job(acme), CsvImport.Mode.ALL_OR_NOTHING, django_capture_on_commit_callbacks
    )
    assert seen == [0, 1]
    assert _job(acme).processed_rows == 2


def test_a_crashed_import_ends_failed_keeps_nothing_sealed_and_is_not_run_twice(
    colleague, acme, eager, django_capture_on_commit_callbacks, monkeypatch
):
    def broken_ingest(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "register_ingest", broken_ingest)
    _upload(colleague, csv_bytes([row()]))
    # (eager Celery stores the task's exception instead of raising it, like a worker)
    _confirm(colleague, _job(acme), CsvImport.Mode.VALID_ONLY, django_capture_on_commit_callbacks)

    job = _job(acme)
    assert job.status == CsvImport.Status.FAILED and job.sealed_content is None
    fragment = colleague.get(reverse("subjects:csv_progress", args=[job.uuid])).content.decode()
    assert "hx-trigger" not in fragment
    # a second delivery of the same message finds the job ended and does nothing
    with tenant_context(acme):
        assert csv_import.csv_import_execute(job_id=job.pk).status == CsvImport.Status.FAILED


def test_an_unconfirmed_upload_is_deleted_after_a_day(colleague, acme):
    _upload(colleague, csv_bytes([row()]))
    job = _job(acme)
    with time_machine.travel(job.created_at + timedelta(hours=25)), tenant_context(acme):
        with pytest.raises(PortalError) as refused:
            csv_import_confirm(job=job, mode="valid_only", confirmed_by=job.created_by)
        assert refused.value.message == PREVIEW_EXPIRED
        assert csv_import_expire_stale() == 1
    job = _job(acme)
    assert job.status == CsvImport.Status.CANCELLED and job.sealed_content is None


def test_a_shifted_column_puts_no_personal_value_into_the_stored_errors(colleague, acme):
    # A TCKN in the group column and a name in the category column, as a shifted row gives.
    shifted = row(group=TCKN_MEHMET, category="Mehmet Demir", purpose="0532 123 45 67")
    _upload(colleague, csv_bytes([shifted]))
    job = _job(acme)
    assert set(job.row_errors) == {"2"}
    with tenant_context(acme):
        stored = [str(job.row_errors), *(str(h.row_errors) for h in job.history.all())]
    for text in stored:
        for value in (TCKN_MEHMET, "Mehmet", "0532"):
            assert value not in text


def test_a_column_named_twice_in_two_languages_is_refused(colleague, acme):
    data = csv_bytes([row()]).decode().replace("group,", "grup,", 1).replace(",email,", ",grup,", 1)
    response = _upload(colleague, data.encode())
    assert response.context["form"].errors["file"] == [
        "Başlık satırında grup sütunu iki kez geçiyor."
    ]
    with tenant_context(acme):
        assert not CsvImport.objects.exists()
