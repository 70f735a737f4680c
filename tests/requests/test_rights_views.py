"""The staff pages of acting on the rights, through the portal: what each role sees and may
do, bad input refused next to its field, reads logged once, and isolation."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import User
from audit.models import AuditEntry
from requests.models import (
    AccessPackage,
    AnswerLetter,
    ApplicationCorrection,
    Letterhead,
    LetterTemplate,
    RecipientNotice,
)
from retention.models import DestructionRun
from subjects.models import PersonalDataItem
from tests.requests.helpers import pdf_text
from tests.requests.rights_setup import world

pytestmark = pytest.mark.django_db


def _url(tenant, name, *args) -> str:
    with tenant_context(tenant):
        return reverse(name, args=args)


def test_the_officer_answers_a_to_c2_and_the_read_is_logged_once(acme, colleague):
    with tenant_context(acme):
        w = world()
    page = _url(acme, "requests:rights", w.application.pk)

    before = colleague.get(page)
    assert before.status_code == 200
    text = before.content.decode()
    assert w.application.reference in text and 'id="answer-open"' in text
    assert w.recipients[0].name not in text  # nothing shown before the read is asked for

    opened = colleague.post(_url(acme, "requests:answer_open", w.application.pk))
    assert opened.status_code == 302 and opened["Location"] == page
    shown = colleague.get(page).content.decode()
    again = colleague.get(page).content.decode()
    assert w.recipients[0].name in shown and w.recipients[1].name in again
    assert "6102 sayılı TTK m. 82" in shown
    with tenant_context(acme):
        assert AuditEntry.objects.filter(detail__event="answer_computed").count() == 1


def test_correction_deletion_notices_and_claims_through_the_pages(acme, colleague):
    with tenant_context(acme):
        w = world(rights=("d", "e", "f", "g"), more_items=("marketing",))
        contact = PersonalDataItem.objects.get(subject=w.subject, category__code="contact")
    pk = w.application.pk
    colleague.post(_url(acme, "requests:answer_open", pk))

    # (d) an empty value is refused next to its field, then a correction is saved
    refused = colleague.post(
        _url(acme, "requests:correction", pk), {"item": contact.pk, "value": ""}
    )
    assert refused.status_code == 400
    assert 'class="invalid-feedback d-block"' in refused.content.decode()
    saved = colleague.post(
        _url(acme, "requests:correction", pk), {"item": contact.pk, "value": "Lale Sok. 9"}
    )
    assert saved.status_code == 302
    with tenant_context(acme):
        assert ApplicationCorrection.objects.filter(application=w.application).count() == 1

    # (e) without the confirmation nothing is destroyed
    unconfirmed = colleague.post(_url(acme, "requests:deletion", pk), {})
    assert unconfirmed.status_code == 400
    with tenant_context(acme):
        assert PersonalDataItem.objects.filter(subject=w.subject).count() == 3
        assert not DestructionRun.objects.filter(reason=w.application.reference).exists()
    done = colleague.post(_url(acme, "requests:deletion", pk), {"confirm": "on"})
    assert done.status_code == 302
    page = colleague.get(_url(acme, "requests:rights", pk)).content.decode()
    with tenant_context(acme):
        run = DestructionRun.objects.get(reason=w.application.reference)
        minutes_url = reverse("retention:minutes_detail", args=[run.minutes.seq])
        # the statutory transaction item stays; contact and marketing are gone
        assert list(
            PersonalDataItem.objects.filter(subject=w.subject).values_list(
                "category__code", flat=True
            )
        ) == ["customer_transaction"]
    assert minutes_url in page and "6102 sayılı TTK m. 82" in page

    # (f) one correction and one deletion notice per recipient; sent and acknowledged
    with tenant_context(acme):
        notices = list(RecipientNotice.objects.filter(application=w.application))
    assert len(notices) == 4
    notice = notices[0]
    assert colleague.post(_url(acme, "requests:notice_sent", notice.pk)).status_code == 302
    colleague.post(
        _url(acme, "requests:notice_ack", notice.pk),
        {"acknowledged_on": timezone.localdate().isoformat(), "note": "Yazılı teyit"},
    )
    with tenant_context(acme):
        notice.refresh_from_db()
    assert notice.sent_at and notice.acknowledged_at and notice.acknowledgement == "Yazılı teyit"

    # (g) a decision without reasons is refused next to the field
    bare = colleague.post(
        _url(acme, "requests:claim", pk), {"right": "g", "decision": "rejected", "reasons": ""}
    )
    assert bare.status_code == 400 and 'class="invalid-feedback d-block"' in bare.content.decode()
    decided = colleague.post(
        _url(acme, "requests:claim", pk),
        {"right": "g", "decision": "rejected", "reasons": "İnsan incelemesi yapıldı."},
    )
    assert decided.status_code == 302
    assert (
        "İnsan incelemesi yapıldı."
        in colleague.get(_url(acme, "requests:rights", pk)).content.decode()
    )


def test_composing_a_rejection_needs_reasons_then_queues_the_letter(
    acme, colleague, sent_tasks, django_capture_on_commit_callbacks
):
    with tenant_context(acme):
        w = world()
    url = _url(acme, "requests:letter_compose", w.application.pk)
    draft = colleague.get(url + "?outcome=rejected")
    assert draft.status_code == 200
    body = draft.context["form"].initial["body"]
    assert "{gerekceler}" in body and w.application.reference in body

    refused = colleague.post(url, {"outcome": "rejected", "reasons": "", "body": body})
    assert refused.status_code == 400
    assert "A rejection must give its reasons" in refused.content.decode() or (
        "Ret kararı gerekçelerini belirtmelidir" in refused.content.decode()
    )
    with tenant_context(acme):
        assert not AnswerLetter.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        queued = colleague.post(
            url, {"outcome": "rejected", "reasons": "Kimlik belgesi eksik.", "body": body}
        )
    assert queued.status_code == 302
    with tenant_context(acme):
        letter = AnswerLetter.objects.get()
    assert sent_tasks == [
        ("requests.tasks.letter_render", {"schema_name": "acme", "letter_id": letter.pk})
    ]


def test_the_auditor_reads_but_cannot_act(acme, auditor, sent_tasks):
    with tenant_context(acme):
        w = world()
    page = auditor.get(_url(acme, "requests:rights", w.application.pk)).content.decode()
    assert 'id="package-build"' not in page and 'id="compose-accepted"' not in page
    response = auditor.post(_url(acme, "requests:package_request", w.application.pk))
    assert response.status_code == 302
    with tenant_context(acme):
        assert not AccessPackage.objects.exists()
    assert sent_tasks == []


def test_before_verification_the_page_refuses_everything(acme, colleague, sent_tasks):
    with tenant_context(acme):
        w = world(rights=("a", "e"), verified=False)
    page = colleague.get(_url(acme, "requests:rights", w.application.pk)).content.decode()
    assert 'id="not-verified"' in page and 'id="package-build"' not in page
    colleague.post(_url(acme, "requests:answer_open", w.application.pk))
    colleague.post(_url(acme, "requests:package_request", w.application.pk))
    colleague.post(_url(acme, "requests:deletion", w.application.pk), {"confirm": "on"})
    after = colleague.get(_url(acme, "requests:rights", w.application.pk)).content.decode()
    assert w.recipients[0].name not in after
    with tenant_context(acme):
        assert not AccessPackage.objects.exists()
        assert PersonalDataItem.objects.filter(subject=w.subject).count() == 2
        assert not AuditEntry.objects.filter(detail__event="answer_computed").exists()
    assert sent_tasks == []


def test_another_controllers_staff_cannot_reach_the_application(acme, outsider, globex):
    with tenant_context(acme):
        w = world(rights=("a", "e"))
    for name, method in [
        ("requests:rights", "get"),
        ("requests:answer_open", "post"),
        ("requests:package_request", "post"),
        ("requests:deletion", "post"),
        ("requests:letter_compose", "get"),
    ]:
        response = getattr(outsider, method)(_url(globex, name, w.application.pk))
        assert response.status_code == 404, name
    with tenant_context(acme):
        assert PersonalDataItem.objects.filter(subject=w.subject).count() == 2
        assert not AccessPackage.objects.exists()


def test_the_detail_page_fragment_renders_with_the_application_alone(acme):
    with tenant_context(acme):
        w = world()
        request = RequestFactory().get("/")
        request.user = User.objects.get(username="colleague")
        html = Template('{% include "requests/rights/fragment_actions.html" %}').render(
            Context({"application": w.application, "request": request, "user": request.user})
        )
        link = reverse("requests:rights", args=[w.application.pk])
    assert 'id="rights-actions"' in html and link in html


def test_the_controller_admin_edits_templates_and_letterhead_the_officer_does_not(
    acme, owner, colleague
):
    url = _url(acme, "requests:letter_templates")
    assert "Sayın {ad_soyad}" in owner.get(url).content.decode()
    saved = owner.post(
        url,
        {"kind": "letterhead", "name": "Acme Perakende A.Ş.", "address": "Levent, İstanbul",
         "mersis": "0123456789012345", "kep": "acme@hs01.kep.tr", "email": "kvkk@acme.com.tr",
         "phone": "0212", "signatory": "Veri Sorumlusu Temsilcisi"},
    )  # fmt: skip
    assert saved.status_code == 302
    bad = owner.post(url, {"kind": "letterhead", "name": "", "kep": "not-an-address"})
    assert bad.status_code == 400
    colleague.post(url, {"kind": "accepted", "accepted-subject_line": "X", "accepted-body": "Y"})
    edited = owner.post(
        url,
        {"kind": "rejected", "rejected-subject_line": "Başvurunuz hk.",
         "rejected-body": "Sayın {ad_soyad}, gerekçeler: {gerekceler}"},
    )  # fmt: skip
    assert edited.status_code == 302
    with tenant_context(acme):
        assert Letterhead.objects.get().kep == "acme@hs01.kep.tr"
        assert LetterTemplate.objects.get(kind="accepted").subject_line != "X"
        assert LetterTemplate.objects.get(kind="rejected").subject_line == "Başvurunuz hk."


def test_the_fee_form_records_the_medium_and_the_refund_shows(acme, colleague):
    with tenant_context(acme):
        w = world()
    pk = w.application.pk
    wrong = colleague.post(_url(acme, "requests:fee", pk), {"medium_cost": "-5"})
    assert wrong.status_code == 400 and 'class="invalid-feedback d-block"' in wrong.content.decode()
    assert colleague.post(_url(acme, "requests:fee", pk), {"medium_cost": "15"}).status_code == 302
    page = colleague.get(_url(acme, "requests:rights", pk)).content.decode()
    assert 'id="fee-due">15,00 TL<' in page
    colleague.post(_url(acme, "requests:controller_error", pk))
    page = colleague.get(_url(acme, "requests:rights", pk)).content.decode()
    assert 'id="fee-due">0,00 TL<' in page


def test_the_draft_is_turkish_even_for_staff_reading_english(acme, colleague):
    with tenant_context(acme):
        w = world()
    colleague.post(_url(acme, "accounts:set_language"), {"language": "en", "next": "/"})
    draft = colleague.get(
        _url(acme, "requests:letter_compose", w.application.pk) + "?outcome=accepted"
    )
    assert "Text of the letter" in draft.content.decode()  # the page speaks English
    body = draft.context["form"].initial["body"]
    assert "Sözleşmenin kurulması" in body or "md. 5(2)" in body
    assert "Necessary for a contract" not in body and "Recipients abroad" not in body


def test_a_notice_for_the_post_names_the_recipient_the_applicant_and_the_categories(
    acme, colleague, auditor
):
    with tenant_context(acme):
        w = world(rights=("d", "f"))
        contact = PersonalDataItem.objects.get(subject=w.subject, category__code="contact")
    colleague.post(_url(acme, "requests:answer_open", w.application.pk))
    colleague.post(
        _url(acme, "requests:correction", w.application.pk), {"item": contact.pk, "value": "Yeni"}
    )
    with tenant_context(acme):
        notice = RecipientNotice.objects.filter(application=w.application).first()
    url = _url(acme, "requests:notice_pdf", notice.pk)
    assert url in colleague.get(_url(acme, "requests:rights", w.application.pk)).content.decode()
    response = colleague.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(response.content).split())
    assert notice.recipient.name in text and "Ayşe Yılmaz" in text
    assert "11(1)(f)" in text and "İletişim" in text and w.application.reference in text
    assert auditor.get(url).status_code == 302  # the auditor does not send notices
