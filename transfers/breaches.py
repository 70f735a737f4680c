"""Breaches (veri ihlalleri): the register, the Board's 72-hour clock and its reminders,
the Board notification PDF and the notice to affected subjects (KVKK Art. 12(5);
Board decisions 2019/10 and 2019/271).

Every clock runs from awareness (``Breach.detected_at``), never from when an e-mail
about the breach arrived.
"""

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from audit.models import Action
from audit.services import audit_entry_create
from config.errors import PortalError
from config.kvkk import BREACH_BOARD_NOTICE_HOURS, BREACH_REMINDER_HOURS_LEFT
from config.pdf import BASE_CSS, html_to_pdf
from subjects.models import DataCategory, DataSubject, IdentifierKind
from subjects.selectors import subject_decrypt
from transfers.models import Breach, BreachNotice, BreachSubjectNotice

logger = logging.getLogger(__name__)

BREACH_FIELDS = (
    "title",
    "occurred_at",
    "detected_at",
    "source",
    "kind",
    "description",
    "estimated_persons",
    "estimated_records",
    "consequences",
    "measures_taken",
    "measures_planned",
    "contact_name",
    "contact_email",
    "contact_phone",
    "board_notified_at",
)


def _validated(breach: Breach) -> None:
    """Model validation as one PortalError naming the first field at fault."""
    try:
        breach.full_clean(exclude=["reminders_sent", "created_by"])
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise PortalError(" ".join(messages), field=None if field == "__all__" else field) from exc
    if breach.detected_at < breach.occurred_at:
        raise PortalError(_("A breach cannot be detected before it occurred."), field="detected_at")
    if breach.detected_at > timezone.now() + timedelta(minutes=5):
        raise PortalError(_("The detection time cannot be in the future."), field="detected_at")


def _categories(category_ids) -> list[DataCategory]:
    ids = {int(pk) for pk in category_ids or []}
    found = list(DataCategory.objects.filter(pk__in=ids))
    if len(found) != len(ids):
        raise PortalError(_("Unknown data category."), field="categories")
    return found


@transaction.atomic
def breach_create(*, actor, category_ids=(), request=None, **fields) -> Breach:
    """Record a breach in the register (Art. 12(5)); its Board clock starts at awareness."""
    breach = Breach(created_by=actor if getattr(actor, "pk", None) else None)
    for name, value in fields.items():
        if name not in BREACH_FIELDS and name not in (
            "processor_breach_id",
            "processor_detected_at",
            "processor_notified_at",
        ):
            raise TypeError(name)
        setattr(breach, name, value)
    _validated(breach)
    categories = _categories(category_ids)
    breach.save()
    breach.categories.set(categories)
    audit_entry_create(
        action=Action.CREATE,
        actor=actor,
        target=breach,
        request=request,
        detail={"event": "breach_recorded", "detected_at": breach.detected_at.isoformat()},
    )
    return breach


@transaction.atomic
def breach_update(*, breach: Breach, actor, category_ids=(), request=None, **fields) -> Breach:
    """Change a breach's record; a moved awareness time moves the clock with it."""
    breach = Breach.objects.select_for_update().get(pk=breach.pk)
    for name, value in fields.items():
        if name not in BREACH_FIELDS:
            raise TypeError(name)
        setattr(breach, name, value)
    _validated(breach)
    categories = _categories(category_ids)
    breach.save()
    breach.categories.set(categories)
    audit_entry_create(
        action=Action.UPDATE,
        actor=actor,
        target=breach,
        request=request,
        detail={"event": "breach_updated", "fields": sorted(fields)},
    )
    return breach


@transaction.atomic
def breach_notice_add(
    *, breach: Breach, kind: str, sent_at: datetime, content: str, actor, request=None
) -> BreachNotice:
    """Record a notice to the Board: one first notice, then follow-ups. The first one
    stops the 72-hour clock."""
    breach = Breach.objects.select_for_update().get(pk=breach.pk)
    if kind not in BreachNotice.Kind.values:
        raise PortalError(_("Choose first or follow-up notice."), field="kind")
    has_first = breach.notices.filter(kind=BreachNotice.Kind.FIRST).exists()
    if kind == BreachNotice.Kind.FIRST and has_first:
        raise PortalError(_("The first notice is already recorded."), field="kind")
    if kind == BreachNotice.Kind.FOLLOW_UP and not has_first:
        raise PortalError(_("Record the first notice before a follow-up."), field="kind")
    if sent_at < breach.detected_at:
        raise PortalError(
            _("A notice cannot be sent before the breach was detected."), field="sent_at"
        )
    if sent_at > timezone.now() + timedelta(minutes=5):
        raise PortalError(_("The sending time cannot be in the future."), field="sent_at")
    if not content.strip():
        raise PortalError(_("Write what the notice said."), field="content")
    notice = BreachNotice.objects.create(
        breach=breach, kind=kind, sent_at=sent_at, content=content, created_by=actor
    )
    if kind == BreachNotice.Kind.FIRST:
        breach.board_notified_at = sent_at
        breach.save(update_fields=["board_notified_at", "updated_at"])
    audit_entry_create(
        action=Action.CREATE,
        actor=actor,
        target=notice,
        request=request,
        detail={"event": "breach_board_notice", "breach": breach.pk, "kind": kind},
    )
    return notice


# --- The clock ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """Where a breach stands against the Board's 72 hours (Art. 12(5), decision 2019/10)."""

    deadline: datetime
    seconds_left: int
    notified_at: datetime | None

    @property
    def done(self) -> bool:
        return self.notified_at is not None

    @property
    def overdue(self) -> bool:
        return not self.done and self.seconds_left < 0

    @property
    def late(self) -> bool:
        return self.done and self.notified_at > self.deadline

    @property
    def hours_left(self) -> int:
        return self.seconds_left // 3600

    @property
    def minutes_left(self) -> int:
        return (abs(self.seconds_left) % 3600) // 60

    @property
    def hours_over(self) -> int:
        return -self.seconds_left // 3600


def breach_clock(breach: Breach, *, now: datetime | None = None) -> Clock:
    now = now or timezone.now()
    deadline = breach.detected_at + timedelta(hours=BREACH_BOARD_NOTICE_HOURS)
    return Clock(deadline, int((deadline - now).total_seconds()), breach.board_notified_at)


def _marks_due(seconds_left: int) -> list[int]:
    return [hours for hours in BREACH_REMINDER_HOURS_LEFT if seconds_left <= hours * 3600]


def breach_reminders_send(*, now: datetime | None = None) -> int:
    """E-mail the controller admins about breaches still not notified to the Board, at
    48, 24 and 6 hours left and once overdue; each mark once. Returns the e-mails sent.

    A breach recorded late passes several marks at once: it gets one reminder (the most
    urgent) and the earlier marks count as reminded.
    """
    now = now or timezone.now()
    since = now - timedelta(hours=BREACH_BOARD_NOTICE_HOURS + 24 * 30)
    candidates = Breach.objects.filter(board_notified_at__isnull=True, detected_at__gte=since)
    admins = list(
        User.objects.filter(role=Role.CONTROLLER_ADMIN, is_active=True)
        .exclude(email="")
        .order_by("pk")
    )
    sent = 0
    for breach_id in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            breach = Breach.objects.select_for_update().get(pk=breach_id)
            clock = breach_clock(breach, now=now)
            due = [
                mark for mark in _marks_due(clock.seconds_left) if mark not in breach.reminders_sent
            ]
            if clock.done or not due:
                continue
            for admin in admins:
                sent += _reminder_mail(breach=breach, clock=clock, admin=admin)
            breach.reminders_sent = sorted({*breach.reminders_sent, *due}, reverse=True)
            breach.save(update_fields=["reminders_sent"])
    return sent


def _page_url(name: str, *args) -> str:
    tenant = getattr(connection, "tenant", None)
    base_url = getattr(tenant, "base_url", "")
    return f"{base_url}{reverse(name, args=args)}" if base_url else ""


def _reminder_mail(*, breach: Breach, clock: Clock, admin: User) -> int:
    with translation.override(admin.language or settings.LANGUAGE_CODE):
        subject = (
            gettext("Overdue: breach not notified to the Board")
            if clock.seconds_left < 0
            else gettext("Breach: %(hours)s hours left to notify the Board")
            % {"hours": max(clock.hours_left, 0)}
        )
        context = {
            "breach": breach,
            "clock": clock,
            "admin": admin,
            "page_url": _page_url("transfers:breach_detail", breach.pk),
        }
        return send_mail(
            subject=subject,
            message=render_to_string("transfers/email_breach_reminder.txt", context),
            from_email=None,
            recipient_list=[admin.email],
        )


# --- The Board notification -----------------------------------------------------------------


def board_notice_pdf(*, breach: Breach, follow_up: bool = False) -> bytes:
    """The Board's breach notification form, in Turkish, with the controller's identity."""
    tenant = getattr(connection, "tenant", None)
    with translation.override("tr"):
        html = render_to_string(
            "transfers/breach_board_notice.html",
            {
                "breach": breach,
                "categories": breach.categories.order_by("name"),
                "follow_up": follow_up,
                "tenant": tenant,
                "base_css": BASE_CSS,
                "today": timezone.localdate(),
                "notices": breach.notices.all(),
            },
        )
    return html_to_pdf(html)


# --- Affected subjects ----------------------------------------------------------------------


@transaction.atomic
def subjects_affected_add(
    *, breach: Breach, subject_ids, actor, request=None
) -> list[BreachSubjectNotice]:
    """Mark register subjects as affected by the breach (once each); returns the new rows."""
    ids = {int(pk) for pk in subject_ids}
    subjects = list(DataSubject.objects.filter(pk__in=ids, key_destroyed_at__isnull=True))
    if len(subjects) != len(ids):
        raise PortalError(
            _("Some of the chosen subjects are not in the register."), field="subjects"
        )
    existing = set(breach.subject_notices.values_list("subject_id", flat=True))
    rows = BreachSubjectNotice.objects.bulk_create(
        BreachSubjectNotice(breach=breach, subject=subject)
        for subject in subjects
        if subject.pk not in existing
    )
    if rows:
        audit_entry_create(
            action=Action.UPDATE,
            actor=actor,
            target=breach,
            request=request,
            detail={
                "event": "breach_subjects_affected",
                "subjects": [str(row.subject.uuid) for row in rows],
            },
        )
    return rows


def subject_notices_progress(*, breach: Breach) -> dict[str, int]:
    counts = dict.fromkeys(BreachSubjectNotice.Status.values, 0)
    for row in breach.subject_notices.values("status").order_by().annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    counts["total"] = sum(counts.values())
    return counts


def subject_notices_send(*, breach_id: int) -> dict[str, int]:
    """Send the breach notice to each waiting affected subject (decision 2019/271): one
    e-mail to the subject's e-mail identifier, each send logged with the subject's
    reference. A subject without an e-mail is marked unreachable, to be told by
    publication; a failed send is marked failed and may be tried again."""
    breach = Breach.objects.get(pk=breach_id)
    tenant = getattr(connection, "tenant", None)
    pending = list(
        breach.subject_notices.filter(
            status__in=[BreachSubjectNotice.Status.PENDING, BreachSubjectNotice.Status.FAILED]
        ).select_related("subject__group")
    )
    for row in pending:
        view = subject_decrypt(row.subject)
        address = view.identifiers.get(IdentifierKind.EMAIL, "")
        if view.destroyed or not address:
            row.status, row.error = BreachSubjectNotice.Status.UNREACHABLE, ""
            row.save(update_fields=["status", "error"])
            continue
        context = {
            "breach": breach,
            "categories": breach.categories.order_by("name"),
            "name": view.name,
            "tenant": tenant,
        }
        with translation.override(getattr(tenant, "language", "") or settings.LANGUAGE_CODE):
            try:
                send_mail(
                    subject=gettext("Notice of a personal-data breach"),
                    message=render_to_string("transfers/email_breach_subject.txt", context),
                    from_email=None,
                    recipient_list=[address],
                )
            except (OSError, smtplib.SMTPException) as exc:
                row.status, row.error = BreachSubjectNotice.Status.FAILED, str(exc)[:255]
                row.save(update_fields=["status", "error"])
                logger.warning("Breach notice to a subject failed: %s", exc)
                continue
        with transaction.atomic():
            row.status, row.sent_at, row.error = BreachSubjectNotice.Status.SENT, timezone.now(), ""
            row.save(update_fields=["status", "sent_at", "error"])
            audit_entry_create(
                action=Action.EXPORT,
                actor_label="system",
                target=row.subject,
                subject_ref=str(row.subject.uuid),
                purpose=gettext("Breach notice to the data subject (Art. 12(5))"),
                detail={"event": "breach_subject_notice", "breach": breach.pk, "channel": "email"},
            )
    return subject_notices_progress(breach=breach)


# --- Processor breaches, as received by the controller ---------------------------------------


@transaction.atomic
def breach_from_processor(*, processor_breach_id: int, **fields) -> tuple[Breach, bool]:
    """The controller's record of a breach its processor reported; once per report.

    The controller becomes aware when the processor's notice reaches it, so its
    72-hour clock starts at ``processor_notified_at``.
    """
    existing = Breach.objects.filter(processor_breach_id=processor_breach_id).first()
    if existing is not None:
        return existing, False
    breach = breach_create(
        actor=None,
        processor_breach_id=processor_breach_id,
        source=Breach.Source.PROCESSOR,
        kind=Breach.Kind.CONFIDENTIALITY,
        **fields,
    )
    return breach, True


def breaches_open() -> list[tuple[Breach, Clock]]:
    """Breaches not yet notified to the Board, most urgent first, with their clocks."""
    now = timezone.now()
    rows = Breach.objects.filter(board_notified_at__isnull=True).order_by("detected_at", "pk")[:20]
    return [(breach, breach_clock(breach, now=now)) for breach in rows]
