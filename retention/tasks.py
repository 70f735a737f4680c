"""Retention's tasks: thin entry points that enter the controller's schema and call a service."""

from config.celery import TenantTask, app
from retention.minutes import minutes_expire


@app.task(base=TenantTask, name="retention.tasks.minutes_expire")
def minutes_expire_task(*, schema_name: str) -> dict:
    """Daily: remove one controller's minutes past their keeping date (at least three years)
    and the targets of its finished runs; the chain stays verifiable from a signed anchor."""
    return {"schema": schema_name, **minutes_expire()}
