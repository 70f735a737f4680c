"""Celery entry points of applications: thin, each in its controller's schema (TenantTask)."""

import smtplib

from config.celery import TenantTask, app
from requests import letters, package


@app.task(base=TenantTask, name="requests.tasks.package_build")
def package_build(*, schema_name: str, package_id: int) -> str:
    """Build an access package; a failure is recorded on the package for staff to retry."""
    return package.package_build(package_id=package_id)


@app.task(base=TenantTask, name="requests.tasks.letter_render")
def letter_render(*, schema_name: str, letter_id: int) -> str:
    """Render an answer letter's PDF; a failure is recorded on the letter for staff to retry."""
    return letters.letter_render(letter_id=letter_id)


@app.task(
    base=TenantTask,
    name="requests.tasks.answer_ready_mail",
    autoretry_for=(OSError, smtplib.SMTPException),
    retry_backoff=60,
    max_retries=5,
)
def answer_ready_mail(*, schema_name: str, application_id: int) -> int:
    """Tell the applicant that the answer is ready (no content in the mail)."""
    return letters.answer_ready_mail_send(application_id=application_id)
