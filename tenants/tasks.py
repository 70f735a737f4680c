from django_tenants.utils import schema_context

from config.celery import app
from tenants.selectors import operational_tenants


@app.task(name="tenants.tasks.fan_out")
def fan_out(task_name: str) -> list[str]:
    """Beat's only entry point: queue ``task_name`` once per operational controller."""
    with schema_context("public"):
        schemas = list(operational_tenants().values_list("schema_name", flat=True))
    for schema_name in schemas:
        app.send_task(task_name, kwargs={"schema_name": schema_name})
    return schemas
