"""Celery entry points of applications: thin, each in its controller's schema (TenantTask)."""

import smtplib

from config.celery import TenantTask, app
from requests import letters, package, reminders

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


@app.task(base=TenantTask, name="requests.tasks.package_build")
def package_build(*, schema_name: str, package_id: int) -> str:
    """Build an access package; a failure is recorded on the package for staff to retry."""
    return package.package_build(package_id=package_id)


@app.task(base=TenantTask, name="requests.tasks.letter_render")
def letter_render(*, schema_name: str, letter_id: int) -> str:
    """Render an answer letter's PDF; a failure is recorded on the letter for staff to retry."""
    return letters.letter_render(letter_id=letter_id)


@app.task(base=TenantTask, name="requests.tasks.answer_ready_mail", **_MAIL_RETRY)
def answer_ready_mail(*, schema_name: str, application_id: int) -> int:
    """Tell the applicant that the answer is ready (no content in the mail)."""
    return letters.answer_ready_mail_send(application_id=application_id)
