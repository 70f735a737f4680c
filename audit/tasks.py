import logging

from django.db import connection

from audit.selectors import audit_chain_verify_recorded
from audit.services import audit_checkpoint_take
from config.celery import TenantTask, app

logger = logging.getLogger(__name__)


@app.task(base=TenantTask, name="audit.tasks.verify_chain")
def verify_chain(*, schema_name: str) -> dict:
    """Nightly check of one tenant's processing-log chain, against its signed checkpoints."""
    report = audit_chain_verify_recorded()
    if not report.ok:
        logger.error("Audit chain broken at #%s: %s", report.broken_seq, report.reason)
    return {
        "schema": connection.schema_name,  # equals schema_name: the base entered it
        "entries": report.entries,
        "ok": report.ok,
        "broken_seq": report.broken_seq,
    }


@app.task(base=TenantTask, name="audit.tasks.checkpoint_chain")
def checkpoint_chain(*, schema_name: str) -> dict:
    """Nightly: link the entries still waiting, then sign one tenant's chain head."""
    checkpoint = audit_checkpoint_take(taken_by="nightly")
    return {"schema": checkpoint.schema_name, "seq": checkpoint.seq, "id": checkpoint.pk}
