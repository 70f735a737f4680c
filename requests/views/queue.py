"""The work queue of data-subject applications: filters, search, the register as CSV.

The list shows no personal data beyond the reference. A search by a subject's identifier
is posted (never in a URL) and logged; its result is shown in the response to the POST.
"""

import csv

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import ANY_ROLE, WRITERS, role_required, user_has_role
from audit.models import Action
from audit.services import audit_entry_create
from requests import selectors
from requests.forms import IdentifierSearchForm, QueueFilterForm
from requests.services import APPLICATION_PURPOSE
from requests.views.rows import rows_html
from subjects.csv_import import formula_safe


def _filters(form: QueueFilterForm) -> selectors.QueueFilter:
    if not form.is_valid():
        return selectors.QueueFilter()
    data = {key: value for key, value in form.cleaned_data.items() if value not in ("", None)}
    return selectors.QueueFilter(**data)


def _query_without_cursor(request) -> str:
    query = request.GET.copy()
    for key in ("after", "before", "jobs"):
        query.pop(key, None)
    return query.urlencode()


@role_required(*ANY_ROLE)
@require_http_methods(["GET", "POST"])
def index_view(request):
    """The queue (GET, filtered), or the applications of one person (POST, by identifier).

    Auditors read the queue; the search by identifier, a lookup of a person, is for the
    staff who handle applications.
    """
    can_write = user_has_role(request.user, WRITERS)
    if request.method == "POST" and not can_write:
        raise PermissionDenied
    filter_form = QueueFilterForm(request.GET or None)
    search_form = IdentifierSearchForm(request.POST or None)
    page, found = None, None
    if request.method == "POST":
        if search_form.is_valid():
            found = selectors.application_search(
                value=search_form.cleaned_data["identifier"], actor=request.user, request=request
            )
    else:
        rows = selectors.application_queue(filters=_filters(filter_form), user=request.user)
        page = selectors.queue_page(
            rows, after=request.GET.get("after", ""), before=request.GET.get("before", "")
        )
    show_jobs = request.GET.get("jobs") == "failed"
    packages, letters = selectors.failed_jobs() if show_jobs else ([], [])
    context = {
        "filter_form": filter_form,
        "search_form": search_form,
        "page": page,
        "page_rows": rows_html(page.rows) if page else [],
        "found": found,
        "found_rows": rows_html(found) if found else [],
        "query": _query_without_cursor(request),
        "can_write": can_write,
        "show_jobs": show_jobs,
        "failed_packages": packages,
        "failed_letters": letters,
        "failed_count": selectors.failed_jobs_count(),
        "due_soon_days": selectors.DUE_SOON_DAYS,
    }
    return render(request, "requests/index.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


@role_required(*ANY_ROLE)
@require_GET
def register_export_view(request):
    """The application register as CSV: references, channels, rights, dates, assignees, days
    late; no personal data beyond the reference. The export is logged."""
    audit_entry_create(
        action=Action.EXPORT,
        actor=request.user,
        request=request,
        purpose=APPLICATION_PURPOSE,
        detail={"event": "application_register_export"},
    )
    writer = csv.writer(_Echo())
    lines = (
        writer.writerow([formula_safe(cell) for cell in row]) for row in selectors.register_rows()
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    name = f"applications-{connection.schema_name}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
