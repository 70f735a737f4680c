"""Celery entry points of breaches: thin, each in its controller's schema (TenantTask)."""

import smtplib

from config.celery import TenantTask, app
from transfers import breaches


@app.task(
    base=TenantTask,
    name="transfers.tasks.breach_reminders",
    autoretry_for=(OSError, smtplib.SMTPException),
    retry_backoff=60,
    max_retries=5,
)
def breach_reminders(*, schema_name: str) -> int:
    """Remind the controller admins of the Board's 72 hours; beat runs this every 15 minutes."""
    return breaches.breach_reminders_send()


@app.task(base=TenantTask, name="transfers.tasks.breach_subject_notices")
def breach_subject_notices(*, schema_name: str, breach_id: int) -> dict:
    """E-mail the affected subjects of a breach; the page shows the progress."""
    return breaches.subject_notices_send(breach_id=breach_id)
