from config.celery import TenantTask, app
from subjects.csv_import import csv_import_execute, csv_import_expire_stale
from subjects.idempotency import idempotency_keys_expire
from subjects.services import attachments_orphaned_delete, destruction_resume


@app.task(base=TenantTask, name="subjects.tasks.csv_import_run")
def csv_import_run(*, schema_name: str, job_id: int) -> str:
    """Run one confirmed CSV import in its controller's schema."""
    return csv_import_execute(job_id=job_id).status


@app.task(base=TenantTask, name="subjects.tasks.csv_import_expire")
def csv_import_expire(*, schema_name: str) -> int:
    """End the controller's abandoned CSV imports; beat fans this out every hour."""
    return csv_import_expire_stale()


@app.task(base=TenantTask, name="subjects.tasks.destruction_resume")
def destruction_resume_task(*, schema_name: str) -> int:
    """Finish subject destructions a crash interrupted; beat fans this out every hour."""
    return destruction_resume()


@app.task(base=TenantTask, name="subjects.tasks.idempotency_keys_sweep")
def idempotency_keys_sweep(*, schema_name: str) -> int:
    """Delete the controller's API idempotency keys older than a day; beat fans this out hourly."""
    return idempotency_keys_expire()


@app.task(base=TenantTask, name="subjects.tasks.attachments_sweep")
def attachments_sweep(*, schema_name: str) -> int:
    """Delete attachment files of writes that never committed; beat fans this out hourly."""
    return attachments_orphaned_delete()
