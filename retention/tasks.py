"""Celery entry points of retention: thin, each in its controller's schema (TenantTask).

Beat fans the dispatcher, the sweep and the alert out to every operational controller
(tenants.tasks.fan_out); the dispatcher queues a scan only when the controller's interval
has passed. Execution is acks_late: a worker killed mid-run leaves its task to be delivered
again, and the engine resumes the run's pending targets.
"""

import smtplib

from accounts.models import User
from config.celery import TenantTask, app
from retention import backlog, runs
from retention.minutes import minutes_expire


@app.task(base=TenantTask, name="retention.tasks.scan_dispatch")
def scan_dispatch(*, schema_name: str) -> bool:
    """Queue a periodic scan when the controller's interval has passed; beat runs this daily."""
    if not runs.periodic_scan_due():
        return False
    app.send_task("retention.tasks.scan", kwargs={"schema_name": schema_name})
    return True


@app.task(base=TenantTask, name="retention.tasks.scan", acks_late=True, reject_on_worker_lost=True)
def scan(*, schema_name: str, created_by_id: int | None = None) -> int | None:
    """Scan the controller: a dry run (approved and queued at once under automatic execution)."""
    created_by = User.objects.filter(pk=created_by_id).first() if created_by_id else None
    run = runs.periodic_scan(created_by=created_by)
    return run.pk if run else None


@app.task(
    base=TenantTask, name="retention.tasks.execute", acks_late=True, reject_on_worker_lost=True
)
def execute(*, schema_name: str, run_id: int) -> str:
    """Execute an approved run, resuming where an earlier attempt stopped."""
    return runs.run_execute_locked(run_id=run_id)


@app.task(base=TenantTask, name="retention.tasks.runs_resume")
def runs_resume(*, schema_name: str) -> list[int]:
    """Queue runs whose execution stalled; beat runs this hourly."""
    return runs.runs_resume()


@app.task(
    base=TenantTask,
    name="retention.tasks.backlog_alert",
    autoretry_for=(OSError, smtplib.SMTPException),
    retry_backoff=60,
    max_retries=5,
)
def backlog_alert(*, schema_name: str) -> int:
    """E-mail the controller admins when destruction falls behind (at most daily); a mail
    server that cannot be reached is tried again later."""
    return backlog.backlog_alert_send()


@app.task(base=TenantTask, name="retention.tasks.minutes_expire")
def minutes_expire_task(*, schema_name: str) -> dict:
    """Daily: remove one controller's minutes past their keeping date (at least three years)
    and the targets of its finished runs; the chain stays verifiable from a signed anchor."""
    return {"schema": schema_name, **minutes_expire()}
