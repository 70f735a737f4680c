"""The clock's mail: reminders at 7, 3 and 1 days left (each once, across month ends), the
admins' daily overdue list in each admin's language, and the officers' weekly digest."""

import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
import time_machine
from aiosmtpd.controller import Controller
from django.conf import settings
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from audit.models import AuditEntry
from requests import handling, reminders
from requests.models import ReminderSent
from requests.tasks import deadline_reminders
from tests.conftest import _start_worker, _stop, free_port, in_thread, service_env
from tests.factories import staff_create
from tests.requests.helpers import application
from tests.retention.test_backlog import _Inbox

pytestmark = pytest.mark.django_db
IST = ZoneInfo("Europe/Istanbul")


@pytest.fixture(autouse=True)
def _forget_sent_lists():
    """The once-a-day and once-a-week marks live in Redis, which no rollback undoes."""

    def clear():
        cache_config = settings.CACHES["default"]
        with redis.Redis.from_url(cache_config["LOCATION"]) as client:
            for name in ("requests-overdue-list", "requests-weekly-digest"):
                pattern = f"*:{cache_config['KEY_PREFIX']}:*{name}*"
                keys = list(client.scan_iter(match=pattern, count=1000))
                if keys:
                    client.delete(*keys)

    clear()
    yield
    clear()


def _at(day: int, month: int, year: int = 2026, hour: int = 9):
    return time_machine.travel(datetime(year, month, day, hour, tzinfo=IST), tick=False)


def _admin_emails() -> set[str]:
    return set(
        User.objects.filter(role=Role.CONTROLLER_ADMIN, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )


def test_the_assignee_is_reminded_at_7_3_and_1_days_left_each_once_over_february(acme):
    with tenant_context(acme):
        officer = User.objects.get(username="colleague")
        with _at(31, 1):  # due on 2 March 2026: thirty days over February's end
            app = application()
            handling.application_assign(app, assignee=officer, actor=officer)
        assert str(app.due_on) == "2026-03-02"

        sent_on = {}
        for day, month in [(22, 2), (23, 2), (23, 2), (24, 2), (27, 2), (28, 2), (1, 3),
                           (1, 3), (2, 3)]:  # fmt: skip
            with _at(day, month):
                mail.outbox.clear()
                count = reminders.deadline_reminders_send()
                sent_on.setdefault(f"{day}.{month}", []).append(count)
                if count:
                    assert [m.to for m in mail.outbox] == [[officer.email]]
                    assert app.reference in mail.outbox[0].subject
                    assert "Ayşe" not in mail.outbox[0].body
                    assert "Yılmaz" not in mail.outbox[0].body

        assert sent_on == {
            "22.2": [0], "23.2": [1, 0], "24.2": [0], "27.2": [1], "28.2": [0],
            "1.3": [1, 0], "2.3": [0],
        }  # fmt: skip
        assert set(ReminderSent.objects.values_list("days_left", flat=True)) == {7, 3, 1}
        assert AuditEntry.objects.filter(detail__event="deadline_reminder").count() == 3


def test_a_leap_year_february_moves_the_marks(acme):
    with tenant_context(acme):
        with _at(31, 1, 2028):  # due on 1 March 2028 (29 February exists)
            app = application()
        assert str(app.due_on) == "2028-03-01"
        sent = {}
        for day in (22, 23, 26, 27, 28, 29):
            with _at(day, 2, 2028):
                sent[day] = reminders.deadline_reminders_send() > 0
        with _at(1, 3, 2028):
            sent[1] = reminders.deadline_reminders_send() > 0
        # 7 days left on 23 February, 3 on the 27th, 1 on the 29th
        assert sent == {22: False, 23: True, 26: False, 27: True, 28: False, 29: True, 1: False}


def test_an_application_registered_late_gets_one_reminder_the_most_urgent(acme):
    with tenant_context(acme):
        admins = _admin_emails()
        with _at(28, 2):
            # received on 31 January by letter, typed in on 28 February: 2 days left
            staff = User.objects.get(username="owner")
            app = application(channel="written", actor=staff,
                              received_at=datetime(2026, 1, 31, 10, tzinfo=IST))  # fmt: skip
            mail.outbox.clear()
            sent = reminders.deadline_reminders_send()
            # unassigned: each controller admin gets it, once
            assert sent == len(admins)
            assert {m.to[0] for m in mail.outbox} == admins
            assert reminders.deadline_reminders_send() == 0
        assert set(
            ReminderSent.objects.filter(application=app).values_list("days_left", flat=True)
        ) == {7, 3}
        with _at(1, 3):
            assert reminders.deadline_reminders_send() == len(admins)
            assert reminders.deadline_reminders_send() == 0


def test_answered_applications_are_not_reminded(acme):
    with tenant_context(acme):
        with _at(31, 1):
            app = application()
            handling.spam_mark(
                app, reason="otomatik gönderim", actor=User.objects.get(username="owner")
            )
        with _at(23, 2):
            assert reminders.deadline_reminders_send() == 0


def test_the_task_runs_in_the_controllers_schema(acme):
    with tenant_context(acme), _at(31, 1):
        application()
    with _at(23, 2):
        assert deadline_reminders(schema_name="acme") == len(_admin_emails_of(acme))


def _admin_emails_of(tenant) -> set[str]:
    with tenant_context(tenant):
        return _admin_emails()


def test_overdue_applications_are_listed_daily_to_each_admin_in_their_language(acme):
    with tenant_context(acme):
        owner = User.objects.get(username="owner")
        owner.language = "en"
        owner.save(update_fields=["language"])
        with _at(1, 1):
            late = application()  # due 31 January
        with _at(20, 1):
            fresh = application()
        with _at(3, 2):
            mail.outbox.clear()
            sent = reminders.overdue_list_send()
            assert sent == len(_admin_emails())
            by_to = {m.to[0]: m for m in mail.outbox}
            english = by_to[owner.email]
            assert english.subject == "Overdue data-subject applications"
            assert late.reference in english.body and "3 days overdue" in english.body
            assert fresh.reference not in english.body
            others = [m for to, m in by_to.items() if to != owner.email]
            assert others and all(m.subject != english.subject for m in others)
            assert all(late.reference in m.body for m in others)
            assert "Ayşe" not in english.body
            # once a day
            assert reminders.overdue_list_send() == 0
        with _at(4, 2):
            assert reminders.overdue_list_send() == len(_admin_emails())


def test_each_officer_gets_a_weekly_digest_of_their_open_applications(acme):
    with tenant_context(acme):
        officer = User.objects.get(username="colleague")
        with _at(1, 6):
            mine = [application(), application()]
            other = application()
            for app in mine:
                handling.application_assign(app, assignee=officer, actor=officer)
        with _at(8, 6):  # a Monday
            mail.outbox.clear()
            assert reminders.weekly_digest_send() == 1
            digest = mail.outbox[0]
            assert digest.to == [officer.email]
            assert all(app.reference in digest.body for app in mine)
            assert other.reference not in digest.body
            assert reminders.weekly_digest_send() == 0
        with _at(15, 6):
            assert reminders.weekly_digest_send() == 1


@pytest.mark.worker
def test_a_real_worker_reminds_the_assignee_once_over_smtp(committed_tenant):
    # given a controller of its own (the worker reads only committed data) with an
    # application assigned to an officer, seven days before its deadline
    tenant = committed_tenant("remindco")

    def seed() -> str:
        with tenant_context(tenant):
            officer = staff_create(schema="remindco", username="officer", role=Role.REQUEST_OFFICER)
            app = application(received_at=timezone.now() - timedelta(days=23))
            handling.application_assign(app, assignee=officer, actor=officer)
            return app.reference

    reference = in_thread(seed)
    inbox, port = _Inbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    queue = f"{os.environ['CELERY_QUEUE']}-reminders"
    worker = _start_worker(
        queue=queue,
        name="reminders",
        env={**service_env(), "EMAIL_PORT": str(port), "EMAIL_HOST": "127.0.0.1"},
    )
    try:
        # when the task runs twice
        kwargs = {"schema_name": "remindco"}
        first = deadline_reminders.apply_async(kwargs=kwargs, queue=queue).get(timeout=60)
        again = deadline_reminders.apply_async(kwargs=kwargs, queue=queue).get(timeout=60)
    finally:
        _stop(worker)
        smtp.stop()

    # then the officer got one e-mail, with the reference and no personal data
    assert (first, again) == (1, 0)
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["officer@remindco.example.com.tr"]
    body = message.get_payload(decode=True).decode()
    assert reference in body and "Yılmaz" not in body
