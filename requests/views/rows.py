"""The queue's rows as HTML, built in Python: fifty rows of eight cells through the template
engine were the largest part of the page's own time, and the queue must stay within a few
times a trivial view's time at any size (bench/applications.py)."""

from html import escape

from django.urls import reverse
from django.utils import dateformat
from django.utils.formats import get_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from config.kvkk import ApplicationChannel
from requests.models import ApplicationStatus
from requests.selectors import Row
from requests.services import local_date

_PLACEHOLDER = "BSV-0000-000000"


def _days(row: Row) -> str:
    if not row.is_open:
        return "—"
    if row.overdue:
        label = ngettext("%(counter)s day overdue", "%(counter)s days overdue", row.days_over)
        return f'<span class="badge text-bg-danger">{escape(label % {"counter": row.days_over})}</span>'
    if row.due_soon:
        return f'<span class="badge text-bg-warning">{row.days_left}</span>'
    return str(row.days_left)


def rows_html(rows: list[Row]) -> list[SafeString]:
    """One ``<tr>`` per application: no personal data, only what the queue sorts on.

    Every value is escaped with the standard library's ``html.escape`` (Django's
    ``format_html`` costs a lazy-aware call per argument, most of this function's time).
    """
    detail = reverse("requests:detail", args=[_PLACEHOLDER])
    channels = {key: escape(str(label)) for key, label in ApplicationChannel.choices}
    statuses = {key: escape(str(label)) for key, label in ApplicationStatus.choices}
    unassigned = f'<span class="text-body-secondary">{escape(gettext("Unassigned"))}</span>'
    day_format = get_format("SHORT_DATE_FORMAT")
    out = []
    for row in rows:
        app = row.application
        who = app.assignee
        reference = escape(app.reference)
        css = "table-danger" if row.overdue else "table-warning" if row.due_soon else ""
        name = escape(who.get_full_name() or who.username) if who else unassigned
        received = escape(dateformat.format(local_date(app.received_at), day_format))
        due = escape(dateformat.format(app.due_on, day_format))
        channel = channels.get(app.channel) or escape(app.channel)
        status = statuses.get(app.status) or escape(app.status)
        out.append(
            mark_safe(  # noqa: S308 — every value above is escaped
                f'<tr class="{css}" data-reference="{reference}">'
                f'<td><a href="{escape(detail.replace(_PLACEHOLDER, app.reference))}">'
                f"{reference}</a></td>"
                f'<td class="small">{channel}</td><td>{escape(row.rights)}</td>'
                f"<td>{status}</td><td>{name}</td><td>{received}</td><td>{due}</td>"
                f'<td class="text-end">{_days(row)}</td></tr>'
            )
        )
    return out
