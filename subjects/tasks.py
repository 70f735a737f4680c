from config.celery import TenantTask, app
from subjects.csv_import import csv_import_execute, csv_import_expire_stale
from subjects.services import destruction_resume


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
