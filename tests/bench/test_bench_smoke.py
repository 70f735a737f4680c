"""The ingest benchmark still runs, at a tiny size, so its figures can be trusted to mean something."""

from django.db import connection
from django_tenants.utils import tenant_context

from bench import ingest
from subjects.models import DataSubject, PersonalDataItem


def test_benchmark_ingests_the_same_rows_both_ways_and_reports_both(acme):
    with tenant_context(acme):
        figures = ingest.run(subjects=30, items_per_subject=2, batch=10, lookups=5)

        assert (DataSubject.objects.count(), PersonalDataItem.objects.count()) == (30, 60)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT count(*) FROM bench_raw_subject), (SELECT count(*) FROM bench_raw_item)"
            )
            assert cursor.fetchone() == (30, 60)
    text = ingest.report(figures)
    assert "bulk path" in text and "raw COPY baseline" in text and "look-up by TCKN" in text
    assert figures.ours_rate > 0 and figures.copy_rate > 0 and len(figures.lookup_ms) == 5


def test_generated_identifiers_are_valid_and_distinct():
    from subjects.validators import tckn_is_valid

    values = [ingest.tckn(n * 7919 + 13) for n in range(2000)]
    assert all(tckn_is_valid(value) for value in values)
    assert len(set(values)) == len(values)
