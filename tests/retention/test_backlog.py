"""The backlog panel on the dashboard and the retention page, red when destruction falls
behind, and the daily e-mail to the controller admins then."""

from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from dateutil.relativedelta import relativedelta
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from retention import backlog
from retention.models import DestructionRun, RetentionSettings
from retention.tasks import backlog_alert
from subjects.models import PersonalDataItem
from tests.conftest import free_port
from tests.retention.conftest import contact_rule, register_fill, run_create

pytestmark = pytest.mark.django_db

Status = DestructionRun.Status


@pytest.fixture(autouse=True)
def _no_alert_sent_yet(acme, globex):
    """Which days were alerted lives in the cache, which no test's rollback undoes."""
    for tenant in (acme, globex):
        with tenant_context(tenant):
            for days in range(-2, 3):
                day = (timezone.localdate() + timedelta(days=days)).isoformat()
                cache.delete(backlog.ALERT_CACHE_KEY.format(day=day))
    yield
    for tenant in (acme, globex):
        with tenant_context(tenant):
            for days in range(-2, 3):
                day = (timezone.localdate() + timedelta(days=days)).isoformat()
                cache.delete(backlog.ALERT_CACHE_KEY.format(day=day))


def _page(client, tenant, name: str) -> str:
    with tenant_context(tenant):
        url = reverse(name)
    page = client.get(url)
    assert page.status_code == 200
    return page.content.decode()


def _panel(text: str) -> str:
    start = text.index('id="destruction-backlog"')
    return text[start : text.index("</section>", start)]


def test_the_panel_counts_expired_items_and_the_age_of_the_oldest(acme, auditor):
    # given contact data kept a year from collection, collected on 1 March 2020
    with tenant_context(acme):
        contact_rule(years=1)
        register_fill(4)
        register_fill(1, start=10, collected_at=timezone.now().isoformat())  # still kept
        run_create(status=Status.DONE, days_ago=10)
        now = timezone.now()
        first_expired = PersonalDataItem.objects.order_by("collected_at").first().collected_at
        expected_days = (now - (first_expired + relativedelta(years=1))).days

    for name in ("dashboard", "retention:index"):
        panel = _panel(_page(auditor, acme, name))
        assert 'id="backlog-expired">4<' in panel
        assert f"{expected_days} " in panel
        assert 'data-behind="true"' in panel  # past retention far longer than six months
        assert "text-bg-danger" in panel


def test_the_panel_is_green_when_the_controller_keeps_up(acme, owner):
    with tenant_context(acme):
        contact_rule(years=10)
        register_fill(2)
        last = run_create(status=Status.DONE, days_ago=30)
        next_at = last.created_at + relativedelta(months=6)

    panel = _panel(_page(owner, acme, "dashboard"))

    assert 'data-behind="false"' in panel
    assert 'id="backlog-expired">0<' in panel
    assert "text-bg-danger" not in panel
    with tenant_context(acme):
        assert backlog.backlog_panel().next_run_at == next_at


def test_a_failed_run_turns_the_panel_red_and_is_listed(acme, owner):
    with tenant_context(acme):
        run_create(status=Status.DONE, days_ago=5)
        failed = run_create(status=Status.FAILED, failure="boom")
        url = reverse("retention:run_detail", args=[failed.pk])

    panel = _panel(_page(owner, acme, "retention:index"))

    assert 'data-behind="true"' in panel
    assert url in panel
    with tenant_context(acme):
        assert backlog.backlog_panel().reasons == [backlog.BEHIND_FAILED]


def test_an_overdue_next_run_turns_the_panel_red(acme):
    with tenant_context(acme):
        RetentionSettings.objects.create(interval_months=2)
        run_create(status=Status.DONE, days_ago=70)  # due after two months; overdue now
        assert backlog.backlog_panel().reasons == [backlog.BEHIND_OVERDUE]
        RetentionSettings.objects.update(interval_months=3)
        assert backlog.backlog_panel().behind is False


def test_a_dry_run_left_unapproved_past_the_interval_is_behind(acme):
    with tenant_context(acme):
        run_create(status=Status.DRY_RUN, days_ago=190)
        assert backlog.BEHIND_OVERDUE in backlog.backlog_panel().reasons


def test_the_controller_admins_get_one_e_mail_a_day_while_behind(acme, globex):
    # given acme is behind and globex is not
    with tenant_context(acme):
        run_create(status=Status.FAILED, failure="boom")
        admins = sorted(
            User.objects.filter(role=Role.CONTROLLER_ADMIN, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    assert admins  # the first admin and the owner

    # when the daily alert runs twice that day, and for globex
    first = backlog_alert.apply(kwargs={"schema_name": "acme"}).get()
    again = backlog_alert.apply(kwargs={"schema_name": "acme"}).get()
    quiet = backlog_alert.apply(kwargs={"schema_name": "globex"}).get()

    # then acme's admins got one e-mail each, once, and nobody else
    assert (first, again, quiet) == (len(admins), 0, 0)
    assert sorted(address for message in mail.outbox for address in message.to) == admins
    message = mail.outbox[0]
    assert "acme.localhost" in message.body  # a link to the retention page
    assert "boom" not in message.subject

    # and the next day they are written to again
    with tenant_context(acme):
        tomorrow = timezone.now() + timedelta(days=1)
        assert backlog.backlog_alert_send(now=tomorrow) == len(admins)


def test_no_e_mail_while_the_controller_keeps_up(acme):
    with tenant_context(acme):
        run_create(status=Status.DONE, days_ago=1)
    assert backlog_alert.apply(kwargs={"schema_name": "acme"}).get() == 0
    assert mail.outbox == []


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def test_the_alert_is_delivered_over_smtp_in_the_admins_language(acme, settings):
    # given an SMTP server and a controller that is behind
    inbox, port = _Inbox(), free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    try:
        with tenant_context(acme):
            run_create(status=Status.FAILED, failure="boom")
            User.objects.filter(username="owner").update(language="tr")
            User.objects.filter(role=Role.CONTROLLER_ADMIN).exclude(username="owner").update(
                language="en"
            )
            sent = backlog.backlog_alert_send()
    finally:
        server.stop()

    # then each admin got it, in Turkish or English as they chose
    assert sent == len(inbox.messages) >= 2
    subjects = {
        recipients[0]: str(make_header(decode_header(message["Subject"])))
        for recipients, message in inbox.messages
    }
    assert subjects["owner@acme.example.com.tr"] == "İmha geride kalıyor"
    assert "Destruction is falling behind" in subjects.values()


def test_an_unreachable_mail_server_leaves_the_day_unalerted_for_the_retry(acme, settings):
    with tenant_context(acme):
        run_create(status=Status.FAILED, failure="boom")
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
        with pytest.raises(OSError):
            backlog.backlog_alert_send()

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        assert backlog.backlog_alert_send() >= 2
    assert len(mail.outbox) >= 2
