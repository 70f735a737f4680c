"""The ingest benchmark still runs, at a tiny size, so its figures keep meaning something."""

from django.db import connection
from django_tenants.utils import tenant_context

from bench import data, ingest
from subjects import validation
from subjects.models import DataSubject, PersonalDataItem
from subjects.validators import tckn_is_valid
from tests.conftest import in_thread


def _register_counts() -> tuple[int, int]:
    return DataSubject.objects.count(), PersonalDataItem.objects.count()


def test_benchmark_stores_the_same_rows_both_ways_and_reports_both_figures(committed_tenant):
    tenant = committed_tenant("benchco")

    def run():  # the benchmark creates its baseline tables: a tool of the owner's
        with tenant_context(tenant):
            before = _register_counts()
            figures = ingest.run(
                subjects=30, items_per_subject=2, batch=10, lookups=5, http_batches=1
            )
            after = _register_counts()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT (SELECT count(*) FROM {ingest.SUBJECT_TABLE}),"
                    f" (SELECT count(*) FROM {ingest.ITEM_TABLE})"
                )
                copied = cursor.fetchone()
        return figures, (after[0] - before[0], after[1] - before[1]), copied

    figures, added, copied = in_thread(run, role="owner")

    # 30 subjects through the bulk path, 10 more through HTTP; the same rows copied raw
    assert added == (40, 80) and copied == (30, 60)
    assert figures.items == 60 and figures.http.items == 20
    assert figures.ours_rate > 0 and figures.copy_rate > 0 and len(figures.lookup_ms) == 5
    text = figures.report()
    assert f"{figures.ours_rate:,.0f}" in text and f"{figures.copy_rate:,.0f}" in text
    assert "bulk path / raw COPY" in text and "look-up by TCKN" in text
    assert figures.as_dict()["ratio"] == round(figures.ours_rate / figures.copy_rate, 4)


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
