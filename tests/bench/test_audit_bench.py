"""The processing-log benchmark still runs, at a tiny size, so its figures keep meaning something."""

from django.db import connection
from django_tenants.utils import tenant_context

from audit.models import AuditEntry, ChainLink
from audit.selectors import audit_chain_verify
from bench import audit as audit_bench
from tests.conftest import in_thread


def test_benchmark_appends_from_writer_processes_and_walks_a_built_chain(committed_tenant):
    tenant = committed_tenant("benchlogco")

    def run():  # the benchmark creates its baseline table: a tool of the owner's
        with tenant_context(tenant):
            before = ChainLink.objects.count()
            figures = audit_bench.run(writers=2, appends=5, chain=300, progress=lambda text: None)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT count(*) FROM {audit_bench.PLAIN_TABLE}")
                plain = cursor.fetchone()[0]
            return figures, before, plain, ChainLink.objects.count(), audit_chain_verify()

    figures, before, plain, links, report = in_thread(run, role="owner")

    # two processes appended five real entries each, linked; the same rows went in plain
    assert plain == 10
    assert links == before + 10 + 300
    assert report.ok and report.entries == links and report.waiting == 0
    with tenant_context(tenant):
        assert AuditEntry.objects.filter(actor_label__startswith="yazıcı-").count() == 10
    assert figures.chain_entries == links
    assert figures.chained_rate > 0 and figures.plain_rate > 0
    assert figures.verify_rate > 0 and figures.stream_rate > 0
    text = figures.report()
    assert f"{figures.verify_rate:,.0f}" in text and f"{figures.stream_rate:,.0f}" in text
    assert "plain INSERT" in text and "audit_verify" in text
    assert figures.as_dict()["verify_goal_entries_per_s"] == 200_000
