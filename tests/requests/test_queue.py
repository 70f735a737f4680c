"""The work queue: filters, the search by a posted identifier, the register as CSV, the query
count per page, and who may do what on it."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import User
from audit.models import AuditEntry
from requests import handling
from requests.models import Application, ApplicationStatus
from tests.requests.helpers import application, register_subject, tckn_make

pytestmark = pytest.mark.django_db


def _url(tenant, name, *args) -> str:
    with tenant_context(tenant):
        return reverse(name, args=args)


def _references(html: str) -> set[str]:
    return set(re.findall(r'data-reference="(BSV-\d{4}-\d{6})"', html))


def _received(days_ago: int):
    return timezone.now() - timedelta(days=days_ago)


def test_the_queue_shows_days_left_and_marks_due_soon_and_overdue_rows(acme, owner):
    with tenant_context(acme):
        late = application(received_at=_received(35))  # five days overdue
        soon = application(received_at=_received(25))  # five days left
        calm = application(received_at=_received(1))  # 29 days left

    page = owner.get(_url(acme, "requests:index")).content.decode()

    assert _references(page) == {late.reference, soon.reference, calm.reference}
    row_of = {
        ref: row for row, ref in re.findall(r'<tr class="([^"]*)" data-reference="([^"]+)"', page)
    }
    assert row_of == {
        late.reference: "table-danger",
        soon.reference: "table-warning",
        calm.reference: "",
    }
    # due dates in queue order: the overdue one first
    assert page.index(late.reference) < page.index(soon.reference) < page.index(calm.reference)
    # nothing of the applicant is on the list
    assert "Yılmaz" not in page and "Çiçek" not in page


def test_filters_by_status_right_channel_officer_and_due(acme, owner):
    with tenant_context(acme):
        colleague = User.objects.get(username="colleague")
        owner_user = User.objects.get(username="owner")
        access = application(rights=("a", "b"), received_at=_received(2))
        deletion = application(rights=("e",), channel="kep", actor=owner_user,
                               received_at=_received(26))  # fmt: skip
        overdue = application(rights=("c2",), received_at=_received(40))
        handling.application_assign(deletion, assignee=colleague, actor=owner_user)
        spam = application()
        handling.spam_mark(spam, reason="Otomatik gönderim", actor=owner_user)
    url = _url(acme, "requests:index")

    def shown(**query) -> set[str]:
        return _references(owner.get(url, query).content.decode())

    assert shown() == {access.reference, deletion.reference, overdue.reference}
    assert shown(status="spam") == {spam.reference}
    assert spam.reference in shown(status="all")
    assert shown(right="e") == {deletion.reference}
    assert shown(right="b") == {access.reference}
    assert shown(right="c2") == {overdue.reference}
    assert shown(channel="kep") == {deletion.reference}
    assert shown(officer="unassigned") == {access.reference, overdue.reference}
    assert shown(officer=str(colleague.pk)) == {deletion.reference}
    assert shown(officer="mine") == set()
    assert shown(due="overdue") == {overdue.reference}
    assert shown(due="soon") == {deletion.reference}
    today = timezone.localdate()
    assert shown(due_from=str(today + timedelta(days=20))) == {access.reference}
    assert shown(due_to=str(today)) == {overdue.reference}
    assert shown(reference=access.reference.lower()) == {access.reference}


def test_mine_is_the_signed_in_officers_own(acme, colleague):
    with tenant_context(acme):
        officer = User.objects.get(username="colleague")
        app = application()
        other = application()
        handling.application_assign(app, assignee=officer, actor=officer)
    page = colleague.get(_url(acme, "requests:index"), {"officer": "mine"}).content.decode()
    assert _references(page) == {app.reference}
    assert other.reference not in page


def test_a_search_by_posted_tckn_or_register_email_finds_the_persons_applications(acme, owner):
    with tenant_context(acme):
        number = tckn_make(777)
        register_subject(tckn=number, email="ayse.kayitli@ornek.com.tr")
        first = application(tckn=number)
        second = application(tckn=number, rights=("e",))
        stranger = application()
        # an applicant unknown to the register is found by the TCKN they typed
        unknown_number = tckn_make(778)
        unknown = application(tckn=unknown_number)
    url = _url(acme, "requests:index")

    by_tckn = owner.post(url, {"identifier": number})
    by_email = owner.post(url, {"identifier": "Ayse.Kayitli@ornek.com.tr"})
    by_typed = owner.post(url, {"identifier": unknown_number})

    assert by_tckn.status_code == 200
    assert _references(by_tckn.content.decode()) == {first.reference, second.reference}
    assert _references(by_email.content.decode()) == {first.reference, second.reference}
    assert _references(by_typed.content.decode()) == {unknown.reference}
    assert stranger.reference not in by_tckn.content.decode()
    # the identifier is in no link of the page, and the lookup is logged without it
    for response in (by_tckn, by_email):
        links = re.findall(r'(?:href|action)="([^"]*)"', response.content.decode())
        assert not [link for link in links if number in link or "kayitli" in link]
    with tenant_context(acme):
        entries = AuditEntry.objects.filter(detail__event="application_lookup")
        assert entries.count() == 3
        assert all(number not in str(entry.detail) for entry in entries)
        assert entries.filter(detail__found=2).count() == 2


def test_the_register_csv_has_no_personal_data(acme, owner):
    with tenant_context(acme):
        number = tckn_make(4711)
        app = application(tckn=number, rights=("a", "c2"), email="csv.kisi@ornek.com.tr")
        late = application(received_at=_received(33))

    response = owner.get(_url(acme, "requests:export"))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    by_ref = {row["reference"]: row for row in rows}
    assert by_ref[app.reference]["rights"] == "a, ç"
    assert by_ref[late.reference]["days_late"] == "3"
    assert by_ref[app.reference]["days_late"] == "0"
    for secret in (number, "Ayşe", "Yılmaz", "csv.kisi", "Çiçek", "Hakkımda"):
        assert secret not in body
    with tenant_context(acme):
        assert AuditEntry.objects.filter(detail__event="application_register_export").exists()


def _page_queries(client, url, query=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, query or {}).status_code == 200
    return len(captured)


def test_the_number_of_queries_per_page_does_not_grow_with_rows_or_depth(acme, owner):
    url = _url(acme, "requests:index")
    with tenant_context(acme):
        officer = User.objects.get(username="colleague")
        for number in range(10):
            app = application(received_at=_received(number % 30))
            if number % 2:
                handling.application_assign(app, assignee=officer, actor=officer)
    owner.get(url)  # warm the session and caches
    few = _page_queries(owner, url)
    with tenant_context(acme):
        for number in range(50):
            app = application(received_at=_received(number % 30))
            if number % 2:
                handling.application_assign(app, assignee=officer, actor=officer)
    many = _page_queries(owner, url)
    html = owner.get(url).content.decode()
    assert len(_references(html)) == 50
    cursor = re.search(r'after=([0-9-]+_\d+)" rel="next"', html).group(1)
    deep = _page_queries(owner, url, {"after": cursor})
    filtered = _page_queries(owner, url, {"right": "a", "officer": "unassigned"})
    assert few == many == deep == filtered, (few, many, deep, filtered)
    second = owner.get(url, {"after": cursor}).content.decode()
    assert len(_references(second)) == 10
    assert not _references(second) & _references(html)
    # and back: the page before the second is the first
    back = re.search(r'before=([0-9-]+_\d+)" rel="prev"', second).group(1)
    assert _references(owner.get(url, {"before": back}).content.decode()) == _references(html)


def test_the_auditor_reads_the_queue_and_page_but_cannot_act(acme, auditor):
    with tenant_context(acme):
        app = application()
    assert auditor.get(_url(acme, "requests:index")).status_code == 200
    page = auditor.get(_url(acme, "requests:detail", app.reference))
    assert page.status_code == 200
    assert 'id="workflow"' not in page.content.decode()
    assert (
        auditor.post(_url(acme, "requests:index"), {"identifier": tckn_make(5)}).status_code == 403
    )
    for name, data in (
        ("requests:assign", {"assignee": ""}),
        ("requests:note", {"text": "not"}),
        ("requests:status", {"to": "in_progress"}),
        ("requests:spam", {"reason": "deneme spam"}),
        ("requests:question", {"text": "soru"}),
        ("requests:identity_check", {}),
    ):
        assert auditor.post(_url(acme, name, app.reference), data).status_code == 403, name
    assert auditor.get(_url(acme, "requests:register")).status_code == 403
    with tenant_context(acme):
        fresh = Application.objects.get(pk=app.pk)
        assert fresh.status == ApplicationStatus.RECEIVED and fresh.assignee is None
        assert not fresh.notes.exists()


def test_another_controllers_staff_cannot_see_an_application(acme, globex, outsider, owner):
    with tenant_context(acme):
        app = application()
    # globex's admin asks globex's host for acme's reference: not there
    assert outsider.get(_url(globex, "requests:detail", app.reference)).status_code == 404
    listing = outsider.get(_url(globex, "requests:index")).content.decode()
    assert app.reference not in listing
    csv_body = b"".join(outsider.get(_url(globex, "requests:export")).streaming_content)
    assert app.reference.encode() not in csv_body
    # and the outsider's session does not open acme's host
    assert outsider.get(
        _url(acme, "requests:detail", app.reference), HTTP_HOST=acme.host
    ).status_code in (302, 403)


def test_the_dashboard_counts_open_due_soon_and_overdue_applications(acme, owner):
    with tenant_context(acme):
        application(received_at=_received(40))
        application(received_at=_received(32))
        application(received_at=_received(27))
        application(received_at=_received(1))
        handling.spam_mark(
            application(received_at=_received(45)), reason="Toplu gönderim",
            actor=User.objects.get(username="owner"),
        )  # fmt: skip

    page = owner.get(_url(acme, "dashboard")).content.decode()

    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', page))
    assert counts == {"open": "4", "due_soon": "1", "overdue": "2"}
