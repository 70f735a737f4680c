"""Celery entry points of applications: thin, each in its controller's schema (TenantTask)."""

import smtplib

from config.celery import TenantTask, app
from requests import reminders

_MAIL_RETRY = {
    "autoretry_for": (OSError, smtplib.SMTPException),
    "retry_backoff": 60,
    "max_retries": 5,
}


@app.task(base=TenantTask, name="requests.tasks.deadline_reminders", **_MAIL_RETRY)
def deadline_reminders(*, schema_name: str) -> int:
    """Remind assignees at 7, 3 and 1 days before the 30-day deadline (each mark once)."""
    return reminders.deadline_reminders_send()


@app.task(base=TenantTask, name="requests.tasks.overdue_list", **_MAIL_RETRY)
def overdue_list(*, schema_name: str) -> int:
    """The controller admins' daily list of overdue applications."""
    return reminders.overdue_list_send()


@app.task(base=TenantTask, name="requests.tasks.weekly_digest", **_MAIL_RETRY)
def weekly_digest(*, schema_name: str) -> int:
    """Each officer's weekly digest of their open applications."""
    return reminders.weekly_digest_send()
