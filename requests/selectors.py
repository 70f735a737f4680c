"""Reads of data-subject applications for staff: the work queue, its register export, search.

The queue shows what staff sort and filter on (reference, channel, rights, status, the
assignee, dates); nothing sealed is opened for a list. Pages are cut by keyset on the
queue's order (due date, id), so page 2,000 costs what page 1 costs, and the total is
counted only up to ``COUNT_CAP`` rows.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import Role, User
from audit.models import Action
from audit.services import audit_entry_create
from config.kvkk import APPLICATION_RIGHT_LETTERS
from requests.models import (
    OPEN_STATUSES,
    AccessPackage,
    AnswerLetter,
    Application,
    JobStatus,
)
from requests.services import APPLICATION_PURPOSE, Identity, local_date
from subjects.selectors import subject_matches
from subjects.validators import normalize_passport, tckn_is_valid

PAGE_SIZE = 50
# The total is counted up to this many rows; beyond it the page says "more than".
COUNT_CAP = 500
# Applications due within this many days are highlighted as due soon.
DUE_SOON_DAYS = 7
# A search by identifier shows at most this many applications.
SEARCH_LIMIT = 200


def today() -> date:
    return local_date(timezone.now())


def rights_letters(rights) -> str:
    return ", ".join(APPLICATION_RIGHT_LETTERS.get(right, right) for right in rights)


def officers() -> QuerySet[User]:
    """Staff who may be assigned an application."""
    return User.objects.filter(
        is_active=True, role__in=(Role.CONTROLLER_ADMIN, Role.REQUEST_OFFICER)
    ).order_by("username")


@dataclass(frozen=True)
class QueueFilter:
    """The queue's filters, as the filter form cleaned them."""

    status: str = "open"  # "open", "all" or an ApplicationStatus
    right: str = ""
    channel: str = ""
    officer: str = ""  # "", "mine", "unassigned" or a user's pk
    due: str = ""  # "", "overdue", "soon"
    due_from: date | None = None
    due_to: date | None = None
    reference: str = ""


def application_queue(*, filters: QueueFilter, user: Any) -> QuerySet[Application]:
    """Applications matching the filters, in the queue's order (due date, then id)."""
    rows = Application.objects.select_related("assignee").defer(
        "applicant_enc", "details_enc", "identity_index"
    )
    if filters.status == "open":
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif filters.status and filters.status != "all":
        rows = rows.filter(status=filters.status)
    if filters.right:
        rows = rows.filter(rights__contains=[filters.right])
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    if filters.officer == "mine":
        rows = rows.filter(assignee_id=user.pk)
    elif filters.officer == "unassigned":
        rows = rows.filter(assignee__isnull=True)
    elif filters.officer:
        rows = rows.filter(assignee_id=int(filters.officer))
    now = today()
    if filters.due == "overdue":
        rows = rows.filter(due_on__lt=now, status__in=OPEN_STATUSES)
    elif filters.due == "soon":
        rows = rows.filter(
            due_on__gte=now, due_on__lte=now + timedelta(days=DUE_SOON_DAYS),
            status__in=OPEN_STATUSES,
        )  # fmt: skip
    if filters.due_from:
        rows = rows.filter(due_on__gte=filters.due_from)
    if filters.due_to:
        rows = rows.filter(due_on__lte=filters.due_to)
    if filters.reference:
        rows = rows.filter(reference__iexact=filters.reference.strip())
    return rows.order_by("due_on", "pk")


@dataclass(frozen=True)
class Row:
    """An application as one line of the queue."""

    application: Application
    days_left: int
    is_open: bool

    @property
    def overdue(self) -> bool:
        return self.is_open and self.days_left < 0

    @property
    def days_over(self) -> int:
        return -self.days_left

    @property
    def due_soon(self) -> bool:
        return self.is_open and 0 <= self.days_left <= DUE_SOON_DAYS

    @property
    def rights(self) -> str:
        return rights_letters(self.application.rights)


def rows_of(applications) -> list[Row]:
    now = today()
    return [Row(app, (app.due_on - now).days, app.status in OPEN_STATUSES) for app in applications]


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int
    total_capped: bool
    next_cursor: str
    previous_cursor: str
    first: bool


def cursor_of(application: Application) -> str:
    return f"{application.due_on.isoformat()}_{application.pk}"


def cursor_parse(text: str) -> tuple[date, int] | None:
    try:
        day, pk = text.split("_", 1)
        return date.fromisoformat(day), int(pk)
    except (ValueError, TypeError):
        return None


def _after(rows: QuerySet, due: date, pk: int) -> QuerySet:
    # due_on >= d narrows the index range; the OR finishes the (due_on, id) > (d, pk) test.
    return rows.filter(due_on__gte=due).filter(Q(due_on__gt=due) | Q(pk__gt=pk))


def _before(rows: QuerySet, due: date, pk: int) -> QuerySet:
    return rows.filter(due_on__lte=due).filter(Q(due_on__lt=due) | Q(pk__lt=pk))


def queue_page(
    rows: QuerySet[Application], *, after: str = "", before: str = "", size: int = PAGE_SIZE
) -> Page:
    """One page of the queue by keyset: two queries whatever the page's depth."""
    after_key, before_key = cursor_parse(after), cursor_parse(before)
    # Counted in the queue's order, so that the planner walks the same index as the page and
    # stops at the cap (unordered, it chose a full scan for a rare combination of filters).
    total = rows[: COUNT_CAP + 1].count()
    if before_key:
        found = list(_before(rows, *before_key).order_by("-due_on", "-pk")[: size + 1])
        more_before = len(found) > size
        found = list(reversed(found[:size]))
        more_after = True
    else:
        page_rows = _after(rows, *after_key) if after_key else rows
        found = list(page_rows[: size + 1])
        more_after = len(found) > size
        found = found[:size]
        more_before = after_key is not None
    return Page(
        rows=rows_of(found),
        total=min(total, COUNT_CAP),
        total_capped=total > COUNT_CAP,
        next_cursor=cursor_of(found[-1]) if found and more_after else "",
        previous_cursor=cursor_of(found[0]) if found and more_before else "",
        first=not more_before,
    )


def failed_jobs() -> tuple[list[AccessPackage], list[AnswerLetter]]:
    """Access packages and answer letters whose job failed, newest first."""
    packages = list(
        AccessPackage.objects.filter(status=JobStatus.FAILED)
        .select_related("application")
        .defer("content_enc", "application__applicant_enc", "application__details_enc")
        .order_by("-requested_at", "-pk")[:100]
    )
    letters = list(
        AnswerLetter.objects.filter(status=JobStatus.FAILED)
        .select_related("application")
        .defer("body_enc", "application__applicant_enc", "application__details_enc")
        .order_by("-created_at", "-pk")[:100]
    )
    return packages, letters


def failed_jobs_count() -> int:
    """Failed access packages and answer letters, in one query."""
    packages = AccessPackage.objects.filter(status=JobStatus.FAILED).values("pk")
    letters = AnswerLetter.objects.filter(status=JobStatus.FAILED).values("pk")
    return packages.union(letters, all=True).count()


def _identity_indexes(value: str) -> set[bytes]:
    """Blind indexes an applicant could have typed this value as: a TCKN, or NAT:number."""
    value = value.strip()
    indexes = set()
    if tckn_is_valid(value):
        indexes.add(Identity(tckn=value).index())
    nationality, _, number = value.partition(":")
    if number:
        try:
            normalize_passport(value)
        except ValidationError:
            pass  # not a passport number: it matches no applicant's
        else:
            indexes.add(Identity(nationality=nationality, foreign_id=number).index())
    return indexes


def application_search(*, value: str, actor: Any, request=None) -> list[Row]:
    """Applications of the person with this identifier: typed as the applicant's identity
    number, or held in the register for a subject (e-mail, phone, customer number...).

    Whether someone applied is itself personal data: the lookup is logged (never the value).
    """
    subjects = [match.subject.pk for match in subject_matches(value=value)]
    indexes = _identity_indexes(value)
    condition = Q(subject_id__in=subjects) if subjects else Q(pk__in=[])
    if indexes:
        condition |= Q(identity_index__in=list(indexes))
    found = list(
        Application.objects.select_related("assignee")
        .defer("applicant_enc", "details_enc", "identity_index")
        .filter(condition)
        .order_by("-received_at", "-pk")[:SEARCH_LIMIT]
    )
    audit_entry_create(
        action=Action.READ,
        actor=actor,
        request=request,
        purpose=APPLICATION_PURPOSE,
        detail={
            "event": "application_lookup",
            "found": len(found),
            "references": [app.reference for app in found[:20]],
        },
    )
    return rows_of(found)


@dataclass(frozen=True)
class Counts:
    open: int
    due_soon: int
    overdue: int


def queue_counts() -> Counts:
    """Open applications, those due within seven days, and overdue: for the dashboard."""
    now = today()
    figures = Application.objects.filter(status__in=OPEN_STATUSES).aggregate(
        open=Count("pk"),
        due_soon=Count(
            "pk", filter=Q(due_on__gte=now, due_on__lte=now + timedelta(days=DUE_SOON_DAYS))
        ),
        overdue=Count("pk", filter=Q(due_on__lt=now)),
    )
    return Counts(**figures)


REGISTER_COLUMNS = (
    "reference",
    "channel",
    "rights",
    "status",
    "outcome",
    "received_at",
    "due_on",
    "answered_at",
    "closed_at",
    "assignee",
    "days_late",
)


def register_rows(*, batch: int = 2_000) -> Iterator[list[str]]:
    """The application register as CSV rows, with no personal data beyond the reference;
    read in keyset batches so a long register streams in constant memory."""
    yield list(REGISTER_COLUMNS)
    last = 0
    while True:
        chunk = list(
            Application.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list(
                "pk", "reference", "channel", "rights", "status", "outcome", "received_at",
                "due_on", "answered_at", "closed_at", "assignee__username",
            )[:batch]
        )  # fmt: skip
        if not chunk:
            return
        now = today()
        for (
            _pk,
            ref,
            channel,
            rights,
            status,
            outcome,
            received,
            due,
            answered,
            closed,
            who,
        ) in chunk:
            finished = answered or closed
            end = local_date(finished) if finished else now
            yield [
                ref,
                channel,
                rights_letters(rights),
                status,
                outcome,
                timezone.localtime(received).isoformat(timespec="minutes"),
                due.isoformat(),
                timezone.localtime(answered).isoformat(timespec="minutes") if answered else "",
                timezone.localtime(closed).isoformat(timespec="minutes") if closed else "",
                who or "",
                str(max((end - due).days, 0)),
            ]
        last = chunk[-1][0]
