"""The 30-day clock's mail (KVKK Art. 13(2)): reminders before the deadline, the controller
admins' daily list of overdue applications, and each officer's weekly digest.

The e-mails carry references and days only, never the applicant's personal data. Each goes
in its reader's language.
"""

import logging
import smtplib
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from config.kvkk import APPLICATION_REMINDER_DAYS_LEFT
from requests.models import OPEN_STATUSES, Application, ReminderSent
from requests.services import HANDLERS, local_date, log

logger = logging.getLogger(__name__)

OVERDUE_CACHE_KEY = "requests-overdue-list:{day}:{user}"
DIGEST_CACHE_KEY = "requests-weekly-digest:{week}:{user}"
REMINDER_SUBJECT = _("Deadline reminder: application %(reference)s")
OVERDUE_SUBJECT = _("Overdue data-subject applications")
DIGEST_SUBJECT = _("Your open data-subject applications this week")


def _admins() -> list[User]:
    return list(
        User.objects.filter(role=Role.CONTROLLER_ADMIN, is_active=True)
        .exclude(email="")
        .order_by("pk")
    )


def _page_url(name: str, *args) -> str:
    tenant = getattr(connection, "tenant", None)
    base_url = getattr(tenant, "base_url", "")
    return f"{base_url}{reverse(name, args=args)}" if base_url else ""


def _mail(user: User, *, subject, template: str, context: dict, **params) -> int:
    with translation.override(user.language or settings.LANGUAGE_CODE):
        tenant = getattr(connection, "tenant", None)
        return send_mail(
            subject=str(subject) % params,
            message=render_to_string(template, {**context, "user": user, "tenant": tenant}),
            from_email=None,
            recipient_list=[user.email],
        )


def marks_due(days_left: int) -> list[int]:
    """The reminder marks (7, 3, 1 days left) an application has reached."""
    return [mark for mark in APPLICATION_REMINDER_DAYS_LEFT if 0 <= days_left <= mark]


def _recipients(application: Application, admins: list[User]) -> list[User]:
    assignee = application.assignee
    if assignee is not None and assignee.is_active and assignee.email and assignee.role in HANDLERS:
        return [assignee]
    return admins


def deadline_reminders_send(*, now: datetime | None = None) -> int:
    """Remind the assignee (unassigned: the controller admins) at 7, 3 and 1 days left; each
    mark once. An application that reaches several marks at once (registered late) gets one
    reminder, the most urgent, and the earlier marks count as sent. Returns e-mails sent."""
    today = local_date(now or timezone.now())
    last_mark = max(APPLICATION_REMINDER_DAYS_LEFT)
    candidates = Application.objects.filter(
        status__in=OPEN_STATUSES, due_on__gte=today, due_on__lte=today + timedelta(days=last_mark)
    ).values_list("pk", flat=True)
    admins = _admins()
    sent = 0
    for pk in candidates:
        with transaction.atomic():
            application = (
                Application.objects.select_for_update(of=("self",))
                .select_related("assignee")
                .get(pk=pk)
            )
            days = (application.due_on - today).days
            done = set(
                ReminderSent.objects.filter(application=application).values_list(
                    "days_left", flat=True
                )
            )
            due = [mark for mark in marks_due(days) if mark not in done]
            if not due or application.status not in OPEN_STATUSES:
                continue
            ReminderSent.objects.bulk_create(
                [ReminderSent(application=application, days_left=mark) for mark in due]
            )
            recipients = _recipients(application, admins)
            for user in recipients:
                sent += _mail(
                    user,
                    subject=REMINDER_SUBJECT,
                    template="requests/work/email_reminder.txt",
                    context={
                        "application": application,
                        "days_left": days,
                        "page_url": _page_url("requests:detail", application.reference),
                    },
                    reference=application.reference,
                )
            log(
                application,
                event="deadline_reminder",
                actor_label="system",
                days_left=days,
                marks=due,
                recipients=[user.username for user in recipients],
            )
    return sent


def overdue_rows(today: date) -> list[tuple[str, int, str]]:
    rows = (
        Application.objects.filter(status__in=OPEN_STATUSES, due_on__lt=today)
        .order_by("due_on", "pk")
        .values_list("reference", "due_on", "assignee__username")
    )
    return [(reference, (today - due).days, who or "") for reference, due, who in rows]


def overdue_list_send(*, now: datetime | None = None) -> int:
    """Each controller admin's daily list of overdue applications: one e-mail per admin a
    day, in the admin's language. Returns e-mails sent."""
    today = local_date(now or timezone.now())
    rows = overdue_rows(today)
    if not rows:
        return 0
    sent = 0
    for admin in _admins():
        key = OVERDUE_CACHE_KEY.format(day=today.isoformat(), user=admin.pk)
        if not cache.add(key, 1, timeout=2 * 24 * 3600):
            continue
        try:
            sent += _mail(
                admin,
                subject=OVERDUE_SUBJECT,
                template="requests/work/email_overdue.txt",
                context={"rows": rows, "page_url": _page_url("requests:index")},
            )
        except (OSError, smtplib.SMTPException):
            cache.delete(key)  # not sent: the task's retry sends it
            raise
    logger.info("Overdue applications listed to %d controller admins", sent)
    return sent


def digest_rows(user: User, today: date) -> list[tuple[str, int, int]]:
    """(reference, days left, days overdue) of the officer's open applications."""
    rows = (
        Application.objects.filter(status__in=OPEN_STATUSES, assignee=user)
        .order_by("due_on", "pk")
        .values_list("reference", "due_on")
    )
    return [(reference, (due - today).days, (today - due).days) for reference, due in rows]


def weekly_digest_send(*, now: datetime | None = None) -> int:
    """Each officer's weekly digest: their open applications with the days left."""
    today = local_date(now or timezone.now())
    year, week, _ = today.isocalendar()
    officers = (
        User.objects.filter(is_active=True, role__in=HANDLERS).exclude(email="").order_by("pk")
    )
    sent = 0
    for officer in officers:
        rows = digest_rows(officer, today)
        if not rows:
            continue
        key = DIGEST_CACHE_KEY.format(week=f"{year}-{week}", user=officer.pk)
        if not cache.add(key, 1, timeout=8 * 24 * 3600):
            continue
        try:
            sent += _mail(
                officer,
                subject=DIGEST_SUBJECT,
                template="requests/work/email_digest.txt",
                context={"rows": rows, "page_url": _page_url("requests:index")},
            )
        except (OSError, smtplib.SMTPException):
            cache.delete(key)
            raise
    return sent
