"""The queue's rows as HTML, built in Python: fifty rows through the template engine cost
more than the rest of the page (about 0.35 ms a row against 0.03 ms here), and the queue
must stay within a few times a trivial view's time at any size."""

from django.urls import reverse
from django.utils import dateformat
from django.utils.formats import get_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext

from config.kvkk import ApplicationChannel
from requests.models import ApplicationStatus
from requests.selectors import Row
from requests.services import local_date

_PLACEHOLDER = "BSV-0000-000000"


def _days(row: Row) -> SafeString:
    if not row.is_open:
        return format_html("{}", "—")
    if row.overdue:
        label = ngettext("%(counter)s day overdue", "%(counter)s days overdue", row.days_over)
        return format_html(
            '<span class="badge text-bg-danger">{}</span>', label % {"counter": row.days_over}
        )
    if row.due_soon:
        return format_html('<span class="badge text-bg-warning">{}</span>', row.days_left)
    return format_html("{}", row.days_left)


def rows_html(rows: list[Row]) -> list[SafeString]:
    """One ``<tr>`` per application: no personal data, only what the queue sorts on."""
    detail = reverse("requests:detail", args=[_PLACEHOLDER])
    channels = {key: str(label) for key, label in ApplicationChannel.choices}
    statuses = {key: str(label) for key, label in ApplicationStatus.choices}
    unassigned = format_html('<span class="text-body-secondary">{}</span>', gettext("Unassigned"))
    day_format = get_format("SHORT_DATE_FORMAT")
    out = []
    for row in rows:
        app = row.application
        who = app.assignee
        out.append(
            format_html(
                '<tr class="{}" data-reference="{}"><td><a href="{}">{}</a></td>'
                '<td class="small">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
                '<td>{}</td><td class="text-end">{}</td></tr>',
                "table-danger" if row.overdue else "table-warning" if row.due_soon else "",
                app.reference,
                detail.replace(_PLACEHOLDER, app.reference),
                app.reference,
                channels.get(app.channel, app.channel),
                row.rights,
                statuses.get(app.status, app.status),
                (who.get_full_name() or who.username) if who else unassigned,
                dateformat.format(local_date(app.received_at), day_format),
                dateformat.format(app.due_on, day_format),
                _days(row),
            )
        )
    return out
