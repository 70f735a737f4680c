"""The ingest benchmark still runs, at a tiny size, so its figures keep meaning something."""

from django.db import connection
from django_tenants.utils import schema_context, tenant_context

from bench import data, ingest
from subjects import validation
from subjects.models import DataSubject, PersonalDataItem
from subjects.validators import tckn_is_valid
from tests.conftest import in_thread


def _register_counts() -> tuple[int, int]:
    return DataSubject.objects.count(), PersonalDataItem.objects.count()


def test_benchmark_stores_the_same_rows_three_ways_and_reports_every_figure(committed_tenant):
    tenant, floor = committed_tenant("benchco"), committed_tenant("floorco")

    def counts(schema: str) -> tuple[int, int]:
        with schema_context(schema):
            return _register_counts()

    def run():  # the benchmark creates its baseline tables: a tool of the owner's
        with tenant_context(tenant):
            figures = ingest.run(
                subjects=30,
                items_per_subject=2,
                batch=10,
                floor_schema="floorco",
                lookups=5,
                http_batches=1,
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT (SELECT count(*) FROM {ingest.SUBJECT_TABLE}),"
                    f" (SELECT count(*) FROM {ingest.ITEM_TABLE})"
                )
                bare = cursor.fetchone()
        return figures, counts("benchco"), counts("floorco"), bare

    figures, ours, floored, bare = in_thread(run, role="owner")

    # 30 subjects through the bulk path, 10 over HTTP and 10 more through the service path;
    # the floor holds exactly the 30 bulk-path subjects, the bare tables their plaintext
    assert ours == (50, 100) and floored == (30, 60) and bare == (30, 60)
    assert floor.schema_name == "floorco"
    assert figures.items == 60 and figures.http.items == 20
    assert figures.ours_rate > 0 and figures.floor_rate > 0 and figures.copy_rate > 0
    assert len(figures.lookup_ms) == 5
    text = figures.report()
    for rate in (figures.ours_rate, figures.floor_rate, figures.copy_rate, figures.http.rate):
        assert f"{rate:,.0f}" in text
    assert "bulk path / database floor" in text and "HTTP / service path" in text
    assert figures.as_dict()["ratio"] == round(figures.ours_rate / figures.floor_rate, 4)


def test_the_floor_reads_back_exactly_what_the_bulk_path_stored(committed_tenant):
    tenant = committed_tenant("readbackco")
    committed_tenant("readfloorco")

    def run():
        with tenant_context(tenant):
            _, _, uuids = ingest.bulk_ingest(data.records(0, 4, 3))
            stored = ingest.stored_batch(uuids, floor_schema="readfloorco")
            ingest.floor_load(stored, floor_schema="readfloorco")
        with schema_context("readfloorco"):
            rows = list(PersonalDataItem.objects.order_by("pk").values_list("pk", "value_enc"))
        with tenant_context(tenant):
            return rows == list(
                PersonalDataItem.objects.order_by("pk").values_list("pk", "value_enc")
            ), len(rows)

    same, count = in_thread(run, role="owner")
    assert same and count == 12


def test_generated_records_pass_validation_with_distinct_identifiers(acme):
    records = data.records(0, 300, 10)

    with tenant_context(acme):
        inputs = validation.records_validate(records=records)

    assert len(inputs) == 300 and all(len(inp.items) == 10 for inp in inputs)
    for kind in ("tckn", "email", "phone", "customer_no"):
        assert len({inp.identifiers[kind] for inp in inputs}) == 300, kind
    assert all(tckn_is_valid(inp.identifiers["tckn"]) for inp in inputs)


def test_a_subject_is_the_same_whatever_the_batch_it_is_generated_in():
    assert data.records(7, 1, 3) == [data.records(0, 10, 3)[7]]
