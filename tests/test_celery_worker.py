"""Tasks run in the schema they were sent for, in a real worker process."""

import pytest
from django_tenants.utils import tenant_context

from audit.models import AuditEntry
from audit.tasks import verify_chain
from tenants.selectors import operational_tenants
from tenants.tasks import fan_out

pytestmark = [pytest.mark.worker, pytest.mark.django_db]


def test_task_sent_for_a_tenant_runs_in_that_tenants_schema(celery_worker, acme, globex):
    with tenant_context(acme):
        acme_entries = AuditEntry.objects.count()
    with tenant_context(globex):
        globex_entries = AuditEntry.objects.count()
    assert acme_entries != globex_entries  # so the counts tell the schemas apart

    acme_result = verify_chain.apply_async(kwargs={"schema_name": "acme"}).get(timeout=60)
    globex_result = verify_chain.apply_async(kwargs={"schema_name": "globex"}).get(timeout=60)

    assert acme_result == {
        "schema": "acme",
        "entries": acme_entries,
        "ok": True,
        "broken_seq": None,
    }
    assert globex_result["schema"] == "globex"
    assert globex_result["entries"] == globex_entries


def test_fan_out_queues_one_task_per_operational_tenant(celery_worker, acme, globex):
    operational = sorted(operational_tenants().values_list("schema_name", flat=True))

    queued = fan_out.apply_async(args=["audit.tasks.verify_chain"]).get(timeout=60)

    assert {"acme", "globex"} <= set(queued)
    assert sorted(queued) == operational  # each once, and only operational ones
