"""An application's page for staff: the applicant (read logged), documents as attachments,
the clock, assignment, notes, questions, statuses, spam and the staff identity check."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import User
from audit.models import AuditEntry
from requests import handling, services
from requests.models import (
    AccessPackage,
    AnswerLetter,
    Application,
    ApplicationDocument,
    ApplicationStatus,
    IdentityMethod,
    JobStatus,
)
from tests.requests.helpers import application, register_subject, tckn_make

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _url(tenant, name, *args) -> str:
    with tenant_context(tenant):
        return reverse(name, args=args)


def _entries(event: str):
    return AuditEntry.objects.filter(detail__event=event)


def test_the_page_shows_the_applicant_and_logs_the_read(acme, owner):
    with tenant_context(acme):
        number = tckn_make(91)
        subject = register_subject(tckn=number)
        app = application(
            tckn=number,
            details="Adresimi düzeltin lütfen",
            received_at=timezone.now() - timedelta(days=4),
        )

    page = owner.get(_url(acme, "requests:detail", app.reference)).content.decode()

    assert "Ayşe Yılmaz" in page and number in page
    assert "Adresimi düzeltin lütfen" in page
    assert reverse("subjects:detail", args=[subject.uuid]) in page
    # the clock: 26 days left, the due date, and that nothing stops it
    clock = page[page.index('id="clock"') :]
    assert "26" in clock[:1500]
    with tenant_context(acme):
        assert _entries("applicant_read").filter(object_id=str(app.pk)).count() == 1


def test_a_document_downloads_as_an_attachment_and_the_download_is_logged(acme, owner, auditor):
    with tenant_context(acme):
        app = application()
        document = services.document_store(
            app, kind="scan", name="dilekçe.pdf", content=PDF, content_type="application/pdf"
        )
    page = owner.get(_url(acme, "requests:detail", app.reference)).content.decode()
    link = _url(acme, "requests:document", app.reference, document.uuid)
    assert link in page
    assert "/media/" not in page

    response = auditor.get(link)

    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    with tenant_context(acme):
        assert _entries("document_download").count() == 1
        # the file at rest is sealed: not the PDF's bytes
        from django.core.files.storage import default_storage

        with default_storage.open(ApplicationDocument.objects.get().path, "rb") as handle:
            assert handle.read() != PDF


def test_assignment_goes_to_the_processing_log_and_the_history(acme, owner):
    with tenant_context(acme):
        app = application()
        colleague = User.objects.get(username="colleague")

    response = owner.post(_url(acme, "requests:assign", app.reference), {"assignee": colleague.pk})

    assert response.status_code == 302
    with tenant_context(acme):
        assert Application.objects.get(pk=app.pk).assignee == colleague
        entry = _entries("assigned").get()
        assert entry.detail["to"] == "colleague"
        assert entry.actor_id == User.objects.get(username="owner").pk
        latest = Application.history.filter(id=app.pk).latest("history_date")
        assert latest.assignee_id == colleague.pk
        assert latest.history_user.username == "owner"
    page = owner.get(_url(acme, "requests:detail", app.reference)).content.decode()
    history = page[page.index('id="history"') :]
    assert "assignee" in history


def test_an_auditor_cannot_be_assigned_and_nothing_changes(acme, owner):
    with tenant_context(acme):
        app = application()
        auditor_user = User.objects.get(username="auditor")
    response = owner.post(
        _url(acme, "requests:assign", app.reference), {"assignee": auditor_user.pk}
    )
    assert response.status_code == 400
    assert "invalid-feedback" in response.content.decode()
    with tenant_context(acme):
        assert Application.objects.get(pk=app.pk).assignee is None
        assert not _entries("assigned").exists()


def test_notes_are_sealed_and_shown_to_staff(acme, owner):
    with tenant_context(acme):
        app = application()
    assert (
        owner.post(
            _url(acme, "requests:note", app.reference), {"text": "Müşteri hizmetlerine soruldu"}
        ).status_code
        == 302
    )
    empty = owner.post(_url(acme, "requests:note", app.reference), {"text": "   "})
    assert empty.status_code == 400
    page = owner.get(_url(acme, "requests:detail", app.reference)).content.decode()
    assert "Müşteri hizmetlerine soruldu" in page
    with tenant_context(acme):
        note = Application.objects.get(pk=app.pk).notes.get()
        assert "Müşteri".encode() not in bytes(note.text_enc)
        assert _entries("note_added").count() == 1


def test_a_question_mails_the_applicant_a_notice_without_its_text(
    acme, owner, django_capture_on_commit_callbacks
):
    with tenant_context(acme):
        app = application(email="soru.sahibi@ornek.com.tr")
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(
            _url(acme, "requests:question", app.reference),
            {"text": "Hangi şubemizle işlem yaptınız?"},
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["soru.sahibi@ornek.com.tr"]
    assert app.reference in message.subject
    assert "şubemizle" not in message.body and "şubemizle" not in message.subject
    page = owner.get(_url(acme, "requests:detail", app.reference)).content.decode()
    assert "Hangi şubemizle işlem yaptınız?" in page
    with tenant_context(acme):
        assert Application.objects.get(pk=app.pk).messages.get().direction == "to_applicant"


def test_only_allowed_transitions_have_buttons_and_others_are_refused(acme, owner):
    with tenant_context(acme):
        app = application()
    page = owner.get(_url(acme, "requests:detail", app.reference)).content.decode()
    buttons = set(re.findall(r'name="to" value="([a-z_]+)"', page))
    # Unverified: "in progress" is not offered, and posting it anyway is refused.
    assert buttons == {"identity_check"}

    for target in ("closed", "in_progress", "answered"):
        refused = owner.post(
            _url(acme, "requests:status", app.reference), {"to": target}, follow=True
        )
        assert refused.status_code == 200
        with tenant_context(acme):
            assert Application.objects.get(pk=app.pk).status == ApplicationStatus.RECEIVED
            assert not _entries("status").exists()

    moved = owner.post(_url(acme, "requests:status", app.reference), {"to": "identity_check"})
    assert moved.status_code == 302
    with tenant_context(acme):
        assert Application.objects.get(pk=app.pk).status == ApplicationStatus.IDENTITY_CHECK
        assert _entries("status").get().detail["to"] == "identity_check"


def test_spam_needs_a_reason_and_is_logged(acme, owner):
    with tenant_context(acme):
        app = application()
    short = owner.post(_url(acme, "requests:spam", app.reference), {"reason": "x"})
    assert short.status_code == 400
    with tenant_context(acme):
        assert Application.objects.get(pk=app.pk).status == ApplicationStatus.RECEIVED
    done = owner.post(
        _url(acme, "requests:spam", app.reference), {"reason": "Toplu otomatik gönderim"}
    )
    assert done.status_code == 302
    with tenant_context(acme):
        assert Application.objects.get(pk=app.pk).status == ApplicationStatus.SPAM
        entry = _entries("status").get()
        assert entry.detail["reason"] == "Toplu otomatik gönderim"
    page = owner.get(_url(acme, "requests:detail", app.reference)).content.decode()
    assert 'id="spam"' not in page


def test_staff_verify_identity_of_a_letter_but_not_of_a_web_application(acme, owner):
    with tenant_context(acme):
        officer = User.objects.get(username="owner")
        letter = application(channel="written", actor=officer)
        web = application()
    page = owner.get(_url(acme, "requests:detail", letter.reference)).content.decode()
    assert _url(acme, "requests:identity_check", letter.reference) in page
    web_page = owner.get(_url(acme, "requests:detail", web.reference)).content.decode()
    assert _url(acme, "requests:identity_check", web.reference) not in web_page

    assert owner.post(_url(acme, "requests:identity_check", letter.reference)).status_code == 302
    owner.post(_url(acme, "requests:identity_check", web.reference))
    with tenant_context(acme):
        checked = Application.objects.get(pk=letter.pk)
        assert checked.identity_method == IdentityMethod.STAFF_CHECK
        assert checked.status == ApplicationStatus.IN_PROGRESS
        assert Application.objects.get(pk=web.pk).identity_verified_at is None


def test_failed_jobs_show_why_on_the_page_and_in_the_queue(acme, owner):
    with tenant_context(acme):
        app = application()
        officer = User.objects.get(username="owner")
        AccessPackage.objects.create(
            application=app, status=JobStatus.FAILED, requested_by=officer,
            failure="PDF oluşturulamadı: yazı tipi bulunamadı", attempts=3,
        )  # fmt: skip
        AnswerLetter.objects.create(
            application=app, outcome="accepted", body_enc=b"x", status=JobStatus.FAILED,
            created_by=officer, failure="SMTP sunucusu yanıt vermedi",
        )  # fmt: skip
        handling.note_add(app, text="x", actor=officer)
    page = owner.get(_url(acme, "requests:detail", app.reference)).content.decode()
    assert 'id="failed-jobs"' in page
    assert "yazı tipi bulunamadı" in page and "SMTP sunucusu yanıt vermedi" in page
    queue = owner.get(_url(acme, "requests:index"), {"jobs": "failed"}).content.decode()
    jobs = queue[queue.index('id="failed-jobs"') :]
    assert app.reference in jobs and "yazı tipi bulunamadı" in jobs
