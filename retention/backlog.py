"""The destruction backlog (imha birikimi): what is past retention and not yet destroyed, when
the last periodic run was and the next is due, and whether the controller has fallen behind.

A controller that falls behind must not go unnoticed (Regulation Art. 11: at most six months
between periodic runs): the panel turns red and the controller admins get an e-mail, at most
one a day.
"""

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from retention.models import DestructionRun
from retention.runs import months_after, periodic_run_last, retention_settings_read
from retention.selectors import backlog

logger = logging.getLogger(__name__)

BEHIND_ITEMS = _(
    "Some items have been past their retention for longer than the destruction interval."
)
BEHIND_FAILED = _("A destruction run failed.")
BEHIND_OVERDUE = _("The next periodic run is overdue.")
# The dispatcher runs daily: a scan is overdue a day after it was due.
OVERDUE_AFTER = timedelta(days=1)
ALERT_CACHE_KEY = "retention:backlog-alert:{day}"


@dataclass
class Backlog:
    expired_items: int
    oldest_expired_at: datetime | None
    last_run: DestructionRun | None
    next_run_at: datetime | None
    interval_months: int
    failed_runs: list[DestructionRun] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    now: datetime | None = None

    @property
    def behind(self) -> bool:
        return bool(self.reasons)

    @property
    def oldest_age_days(self) -> int | None:
        if self.oldest_expired_at is None or self.now is None:
            return None
        return max((self.now - self.oldest_expired_at).days, 0)


def backlog_panel(*, now: datetime | None = None) -> Backlog:
    """The backlog of the current controller, with the reasons it is behind (if any)."""
    now = now or timezone.now()
    figures = backlog(now=now)
    interval = retention_settings_read().interval_months
    last = periodic_run_last()
    next_at = months_after(last.created_at, interval) if last else None
    failed = list(
        DestructionRun.objects.filter(status=DestructionRun.Status.FAILED).order_by("-created_at")
    )
    reasons = []
    oldest = figures["oldest_expired_at"]
    if oldest is not None and months_after(oldest, interval) < now:
        reasons.append(BEHIND_ITEMS)
    if failed:
        reasons.append(BEHIND_FAILED)
    if next_at is not None and next_at + OVERDUE_AFTER < now:
        reasons.append(BEHIND_OVERDUE)
    return Backlog(
        expired_items=figures["expired_items"],
        oldest_expired_at=oldest,
        last_run=last,
        next_run_at=next_at,
        interval_months=interval,
        failed_runs=failed,
        reasons=reasons,
        now=now,
    )


def backlog_alert_send(*, now: datetime | None = None) -> int:
    """E-mail the controller admins if the controller is behind; at most one alert a day.

    Returns the number of admins written to.
    """
    now = now or timezone.now()
    panel = backlog_panel(now=now)
    if not panel.behind:
        return 0
    admins = list(
        User.objects.filter(role=Role.CONTROLLER_ADMIN, is_active=True)
        .exclude(email="")
        .order_by("pk")
    )
    if not admins:
        return 0
    day = timezone.localdate(now).isoformat()
    # The cache key carries the schema (django_tenants.cache.make_key); add() is atomic.
    if not cache.add(ALERT_CACHE_KEY.format(day=day), now.isoformat(), timeout=2 * 24 * 3600):
        return 0
    tenant = getattr(connection, "tenant", None)
    base_url = getattr(tenant, "base_url", "")
    page_url = f"{base_url}{reverse('retention:index')}" if base_url else ""
    sent = 0
    try:
        for admin in admins:
            with translation.override(admin.language or settings.LANGUAGE_CODE):
                context = {"backlog": panel, "page_url": page_url, "admin": admin, "tenant": tenant}
                sent += send_mail(
                    subject=gettext("Destruction is falling behind"),
                    message=render_to_string("retention/email_backlog_alert.txt", context),
                    from_email=None,
                    recipient_list=[admin.email],
                )
    except (OSError, smtplib.SMTPException):
        # Not sent: the day is not marked as alerted, so the task's retry sends it.
        cache.delete(ALERT_CACHE_KEY.format(day=day))
        raise
    logger.warning("Destruction backlog alert sent to %d controller admins", sent)
    return sent
