from config.celery import TenantTask, app
from subjects.csv_import import csv_import_execute


@app.task(base=TenantTask, name="subjects.tasks.csv_import_run")
def csv_import_run(*, schema_name: str, job_id: int) -> str:
    """Run one confirmed CSV import in its controller's schema."""
    return csv_import_execute(job_id=job_id).status
