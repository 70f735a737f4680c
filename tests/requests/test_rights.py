"""Acting on every right (a)-(ğ) of a verified application, at the service level."""

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import User
from audit.models import Action, AuditEntry
from config.errors import PortalError
from requests import actions, answers, letters, package
from requests.crypto import open_file
from requests.models import (
    AccessPackage,
    ApplicationCorrection,
    ApplicationStatus,
    IdentityMethod,
    JobStatus,
    RecipientNotice,
)
from requests.services import identity_verified
from retention.models import DestructionRun, LegalHold
from subjects.models import DataCategory, PersonalDataItem
from subjects.selectors import subject_decrypt
from tests.requests.helpers import application, pdf_text, tckn_make
from tests.requests.rights_setup import THIRD_PARTY, TTK, world

pytestmark = pytest.mark.django_db


def stored(obj, path: str) -> bytes:
    with default_storage.open(path, "rb") as handle:
        return open_file(obj, handle.read())


def test_nothing_is_disclosed_or_changed_before_the_identity_is_verified(acme, sent_tasks):
    with tenant_context(acme):
        w = world(rights=("a", "d", "e", "g"), verified=False)
        item = PersonalDataItem.objects.filter(subject=w.subject).first()
        attempts = [
            lambda: answers.answer_compute(w.application, actor=w.officer),
            lambda: package.package_request(w.application, actor=w.officer),
            lambda: actions.correction_apply(
                w.application, item_id=item.pk, value="Yeni adres", actor=w.officer
            ),
            lambda: actions.deletion_execute(w.application, actor=w.officer),
            lambda: actions.claim_decide(
                w.application, right="g", decision="rejected", reasons="x", actor=w.officer
            ),
            lambda: letters.letter_draft(w.application, outcome="accepted", actor=w.officer),
            lambda: letters.letter_compose(
                w.application, outcome="accepted", body="Metin", actor=w.officer
            ),
        ]
        for attempt in attempts:
            with pytest.raises(PortalError) as refused:
                attempt()
            assert refused.value.message == answers.NOT_VERIFIED
        assert AccessPackage.objects.count() == 0
        assert w.application.letters.count() == 0
        assert PersonalDataItem.objects.filter(subject=w.subject).count() == 2
        assert subject_decrypt(w.subject).items[0].value == "Çiçek Sok. No:5 Kadıköy"
        assert sent_tasks == []


def test_the_answer_gives_categories_purposes_bases_retention_and_recipients(acme):
    # given a verified applicant with contact and transaction data, sent to two recipients
    with tenant_context(acme):
        w = world()

        # when the officer computes the answer to rights a, b, c and ç
        answer = answers.answer_compute(w.application, actor=w.officer)
        text = answers.answer_text(answer)

        # then it says which data is processed, why, on which basis and for how long
        assert answer["processed"] is True
        by_code = {category["code"]: category for category in answer["categories"]}
        assert set(by_code) == {"contact", "customer_transaction"}
        kept = by_code["customer_transaction"]["retention"]
        assert (kept["period"], kept["unit"], kept["source"], kept["provision"]) == (
            10, "years", "statute", TTK,
        )  # fmt: skip
        assert by_code["contact"]["retention"]["period"] == 2
        # and who received it, at home and abroad, from the transfer log
        assert [r["name"] for r in answer["recipients_home"]] == [w.recipients[0].name]
        assert [(r["name"], r["country"]) for r in answer["recipients_abroad"]] == [
            (w.recipients[1].name, "DE")
        ]
        # in Turkish, naming the statute
        assert TTK in text and w.recipients[1].name in text
        assert "Yurt dışındaki alıcılar" in text
        # and the read is in the processing log, against the subject
        entry = AuditEntry.objects.filter(detail__event="answer_computed").get()
        assert entry.action == Action.READ and entry.subject_ref == str(w.subject.uuid)


def test_an_unknown_person_or_an_address_control_is_told_no_data_is_processed(acme):
    with tenant_context(acme):
        unknown = identity_verified(
            application(tckn=tckn_make(99123)), method=IdentityMethod.ADDRESS_CONTROL
        )
        w = world()
        by_address = identity_verified(
            application(tckn=subject_decrypt(w.subject).identifiers["tckn"]),
            method=IdentityMethod.ADDRESS_CONTROL,
        )
        for app_ in (unknown, by_address):
            answer = answers.answer_compute(app_, actor=w.officer)
            assert answer["processed"] is False and answer["categories"] == []
            assert answer["recipients_home"] == answer["recipients_abroad"] == []
            assert "hakkınızda kişisel veri işlenmemektedir" in answers.answer_text(answer)


def test_a_correction_goes_through_the_register_with_the_application_as_reason(acme):
    with tenant_context(acme):
        w = world(rights=("d", "f"))
        item = PersonalDataItem.objects.get(subject=w.subject, category__code="contact")

        actions.correction_apply(
            w.application, item_id=item.pk, value="Lale Sok. No:9 Üsküdar", actor=w.officer
        )

        values = {i.category_code: i.value for i in subject_decrypt(w.subject).items}
        assert values["contact"] == "Lale Sok. No:9 Üsküdar"
        correction = ApplicationCorrection.objects.get(application=w.application)
        assert correction.item == item and correction.corrected_by == w.officer
        logged = AuditEntry.objects.get(detail__event="item_corrected")
        assert logged.detail["reason"] == w.application.reference
        assert logged.detail["item"] == item.pk
        # the register's own entry of the change is there too
        assert AuditEntry.objects.filter(
            action=Action.UPDATE, object_id=str(item.pk), detail__fields=["value"]
        ).exists()
        # and each recipient of the subject's data gets a correction notice (f)
        notices = RecipientNotice.objects.filter(application=w.application)
        assert {(n.recipient_id, n.kind) for n in notices} == {
            (r.pk, RecipientNotice.Kind.CORRECTION) for r in w.recipients
        }


def test_a_correction_of_another_persons_item_is_refused(acme):
    with tenant_context(acme):
        w = world(rights=("d",))
        other = world(rights=("a",))
        foreign = PersonalDataItem.objects.filter(subject=other.subject).first()
        with pytest.raises(PortalError) as refused:
            actions.correction_apply(w.application, item_id=foreign.pk, value="x", actor=w.officer)
        assert refused.value.message == actions.ITEM_UNKNOWN
        assert not ApplicationCorrection.objects.exists()


def test_deletion_runs_through_the_retention_engine_and_names_what_it_kept(acme):
    # given an applicant with contact (held), transaction (statutory 10 years) and
    # marketing data (nothing keeps it)
    with tenant_context(acme):
        w = world(rights=("e", "f"), more_items=("marketing",))
        LegalHold.objects.create(
            scope=LegalHold.Scope.CATEGORY,
            category=DataCategory.objects.get(code="contact"),
            reason="İstanbul 3. Tüketici Mahkemesi 2026/41 sayılı dava",
            owner=w.officer,
            ends_on="2030-01-01",
        )

        # when the officer executes the deletion
        run = actions.deletion_execute(w.application, actor=w.officer)

        # then the engine's application run ended the marketing item, with minutes
        assert run.kind == DestructionRun.Kind.APPLICATION
        assert run.status == DestructionRun.Status.DONE
        assert run.reason == w.application.reference
        assert run.minutes.seq >= 1
        w.application.refresh_from_db()
        assert w.application.deletion_run == run
        left = set(
            PersonalDataItem.objects.filter(subject=w.subject).values_list(
                "category__code", flat=True
            )
        )
        assert left == {"contact", "customer_transaction"}
        # and the answer says what was kept and why, naming the rule and the hold
        summary = actions.deletion_summary(w.application)
        assert summary["ended"] == 1
        assert [(r["category"], r["period"], r["provision"]) for r in summary["kept_by_rule"]] == [
            ("Müşteri işlem", 10, TTK)
        ]
        assert [h["reason"] for h in summary["kept_by_hold"]] == [
            "İstanbul 3. Tüketici Mahkemesi 2026/41 sayılı dava"
        ]
        stale = w.application.__class__.objects.get(pk=w.application.pk)
        stale.deletion_run = None  # as a page loaded before the deletion holds it
        text = letters.generated_content(stale, actor=w.officer)
        assert TTK in text and "2026/41 sayılı dava" in text
        assert f"imha tutanağı no. {run.minutes.seq}" in text or f"no. {run.minutes.seq}" in text
        assert "1 kayıt imha edilmiş" in text
        assert w.recipients[0].name in text  # (f) the recipients notified
        # and the recipients get a deletion notice each
        assert (
            RecipientNotice.objects.filter(
                application=w.application, kind=RecipientNotice.Kind.DELETION
            ).count()
            == 2
        )
        # a second execution is refused
        with pytest.raises(PortalError) as refused:
            actions.deletion_execute(w.application, actor=w.officer)
        assert refused.value.message == actions.ALREADY_DELETED


def test_deletion_of_everything_destroys_the_subject(acme):
    with tenant_context(acme):
        w = world(rights=("e",), transaction_item=False, recipients=False)
        run = actions.deletion_execute(w.application, actor=w.officer)
        assert run.status == DestructionRun.Status.DONE
        w.subject.refresh_from_db()
        assert w.subject.key_destroyed_at is not None
        assert not PersonalDataItem.objects.filter(subject=w.subject).exists()
        assert actions.deletion_summary(w.application)["kept_by_rule"] == []


def test_recipient_notices_are_marked_sent_and_acknowledged(acme):
    with tenant_context(acme):
        w = world(rights=("d", "f"))
        item = PersonalDataItem.objects.get(subject=w.subject, category__code="contact")
        actions.correction_apply(w.application, item_id=item.pk, value="Yeni", actor=w.officer)
        notice = RecipientNotice.objects.filter(application=w.application).first()
        today = timezone.localdate()

        with pytest.raises(PortalError) as early:
            actions.notice_acknowledge(notice, on=today, actor=w.officer)
        assert early.value.message == actions.NOTICE_NOT_SENT

        actions.notice_mark_sent(notice, actor=w.officer)
        with pytest.raises(PortalError) as future:
            actions.notice_acknowledge(
                notice, on=today.replace(year=today.year + 1), actor=w.officer
            )
        assert future.value.message == actions.ACK_IN_FUTURE
        actions.notice_acknowledge(notice, on=today, note="KEP ile teyit", actor=w.officer)

        notice.refresh_from_db()
        assert notice.sent_by == w.officer and notice.sent_at is not None
        assert notice.acknowledged_at.date() == today
        assert notice.acknowledgement == "KEP ile teyit"


def test_objection_and_compensation_are_decided_with_reasons_and_an_outcome_document(acme):
    with tenant_context(acme):
        w = world(rights=("g", "g2"))
        with pytest.raises(PortalError) as bare:
            actions.claim_decide(
                w.application, right="g2", decision="rejected", reasons=" ", actor=w.officer
            )
        assert bare.value.message == actions.REASONS_REQUIRED

        actions.claim_decide(w.application, right="g", decision="accepted",
                             reasons="Kredi puanı yeniden hesaplandı.", actor=w.officer)  # fmt: skip
        actions.claim_decide(w.application, right="g2", decision="rejected",
                             reasons="Zarar belgelenmedi.", actor=w.officer)  # fmt: skip
        decisions = actions.claim_decisions(w.application)
        assert decisions["g"]["decision"] == "accepted"
        assert decisions["g2"]["reasons"] == "Zarar belgelenmedi."
        text = letters.generated_content(w.application, actor=w.officer)
        assert "Kredi puanı yeniden hesaplandı." in text and "Zarar belgelenmedi." in text

        with pytest.raises(PortalError) as wrong:
            actions.outcome_attach(w.application, name="karar.txt", content=b"metin",
                                   actor=w.officer)  # fmt: skip
        assert wrong.value.message == actions.OUTCOME_TYPE
        document = actions.outcome_attach(
            w.application, name="karar.png", content=b"\x89PNG\r\n\x1a\nxx", actor=w.officer
        )
        assert document.kind == "outcome" and document.content_type == "image/png"
        assert w.application.documents.count() == 1


def test_a_right_not_asked_is_not_acted_on(acme):
    with tenant_context(acme):
        w = world(rights=("a",))
        with pytest.raises(PortalError) as refused:
            actions.deletion_execute(w.application, actor=w.officer)
        assert refused.value.message == actions.RIGHT_NOT_ASKED
        assert PersonalDataItem.objects.filter(subject=w.subject).count() == 2


def test_an_auditor_reads_but_does_not_act(acme):
    with tenant_context(acme):
        w = world(rights=("d",), username="auditor")
        item = PersonalDataItem.objects.filter(subject=w.subject).first()
        with pytest.raises(PortalError) as refused:
            actions.correction_apply(w.application, item_id=item.pk, value="x", actor=w.officer)
        assert refused.value.status == 403


def test_the_package_holds_everything_and_a_redaction_removes_the_third_party(
    acme, sent_tasks, django_capture_on_commit_callbacks
):
    with tenant_context(acme):
        w = world()
        with django_capture_on_commit_callbacks(execute=True):
            requested = package.package_request(w.application, actor=w.officer)
        assert sent_tasks == [
            ("requests.tasks.package_build", {"schema_name": "acme", "package_id": requested.pk})
        ]
        # the worker's job, run here
        assert package.package_build(package_id=requested.pk) == JobStatus.READY
        requested.refresh_from_db()
        content = package.package_content(requested, actor=w.officer)
        assert content["subject"]["identifiers"]["tckn"]
        assert {item["category"] for item in content["items"]} == {"İletişim", "Müşteri işlem"}
        assert THIRD_PARTY in content["interactions"][0]["text"]
        assert any(act["event"] == "registered" for act in content["processing"])
        assert all(act["actor"] in {"staff", "system", "applicant", "api"}
                   for act in content["processing"])  # fmt: skip
        assert set(requested.files) == {"json", "csv", "pdf"}
        assert THIRD_PARTY.encode() in stored(requested, requested.files["json"]["path"])

        # when staff black out the third party's name in the interaction
        old_paths = [meta["path"] for meta in requested.files.values()]
        with django_capture_on_commit_callbacks(execute=True):
            package.package_redact(
                requested, path="interactions.0.text", find=THIRD_PARTY,
                reason="Üçüncü kişinin adı", actor=w.officer,
            )  # fmt: skip
        requested.refresh_from_db()

        # then the redaction is recorded, and no file holds the name any more
        (redaction,) = requested.redactions
        assert redaction["path"] == "interactions.0.text" and redaction["by"] == w.officer.pk
        assert redaction["reason"] == "Üçüncü kişinin adı"
        assert THIRD_PARTY not in str(redaction)
        assert AuditEntry.objects.filter(detail__event="package_redacted").exists()
        for kind in ("json", "csv"):
            data = stored(requested, requested.files[kind]["path"]).decode("utf-8-sig")
            assert THIRD_PARTY not in data and "[karartıldı]" in data
        pdf = pdf_text(stored(requested, requested.files["pdf"]["path"]))
        assert "Demir" not in pdf and "karartıldı" in pdf and "Kişisel verileriniz" in pdf
        assert not any(default_storage.exists(path) for path in old_paths)

        # a redaction without a reason, or of text that is not there, is refused
        for wrong in ({"reason": ""}, {"find": "Ahmet"}, {"path": "items.9.value"}):
            fields = {"path": "interactions.0.text", "find": "", "reason": "x", **wrong}
            with pytest.raises(PortalError):
                package.package_redact(requested, actor=w.officer, **fields)
        requested.refresh_from_db()
        assert len(requested.redactions) == 1

        package.package_release(requested, actor=w.officer)
        requested.refresh_from_db()
        assert requested.status == JobStatus.RELEASED and requested.released_by == w.officer


def test_a_failed_package_shows_why_and_can_be_retried(acme, sent_tasks, monkeypatch):
    with tenant_context(acme):
        w = world()
        requested = package.package_request(w.application, actor=w.officer)

        def broken(html):
            raise OSError("font cache unreadable")

        monkeypatch.setattr(package, "html_to_pdf_paged", broken)
        assert package.package_build(package_id=requested.pk) == JobStatus.FAILED
        requested.refresh_from_db()
        assert requested.status == JobStatus.FAILED
        assert requested.failure == "OSError: font cache unreadable"
        assert requested.files == {}

        monkeypatch.undo()
        package.package_retry(requested, w.officer)
        requested.refresh_from_db()
        assert requested.status == JobStatus.QUEUED and requested.failure == ""
        assert package.package_build(package_id=requested.pk) == JobStatus.READY


def test_rejection_without_reasons_is_refused_and_nothing_is_saved(acme, sent_tasks):
    with tenant_context(acme):
        w = world()
        for outcome in ("rejected", "partly_accepted"):
            with pytest.raises(PortalError) as refused:
                letters.letter_compose(
                    w.application, outcome=outcome, reasons="  ", body="Metin", actor=w.officer
                )
            assert refused.value.message == letters.REJECTION_WITHOUT_REASONS
            assert refused.value.field == "reasons"
        assert w.application.letters.count() == 0 and sent_tasks == []


def test_the_letter_is_a_turkish_pdf_with_the_board_complaint_and_its_dates(
    acme, sent_tasks, django_capture_on_commit_callbacks, mailoutbox
):
    with tenant_context(acme):
        w = world()
        letters.letterhead_save(
            actor=User.objects.get(username="owner"),
            name="Acme Ticaret A.Ş.", address="Büyükdere Cad. No:1 Şişli İstanbul",
            mersis="0123456789012345", kep="acme@hs01.kep.tr", email="kvkk@acme.com.tr",
            phone="0212 000 00 00", signatory="Gülşen Öztürk, KVKK İrtibat Kişisi",
        )  # fmt: skip
        body = letters.letter_draft(w.application, outcome="rejected", actor=w.officer)
        assert "{gerekceler}" in body and TTK in body
        with django_capture_on_commit_callbacks(execute=True):
            letter = letters.letter_compose(
                w.application, outcome="rejected", body=body, actor=w.officer,
                reasons="Başvuru, Kanun m. 28/2 kapsamındadır.", art28_exception="a",
            )  # fmt: skip
        assert sent_tasks[-1] == (
            "requests.tasks.letter_render",
            {"schema_name": "acme", "letter_id": letter.pk},
        )
        assert letters.letter_render(letter_id=letter.pk) == JobStatus.READY
        letter.refresh_from_db()
        text = pdf_text(letters.letter_pdf(letter, actor=w.officer))
        flat = " ".join(text.split())
        dates = letters.complaint_dates(w.application)
        assert "Kişisel Verileri Koruma Kurulu" in flat
        assert dates.after_answer.strftime("%d.%m.%Y") in flat
        assert dates.after_application.strftime("%d.%m.%Y") in flat
        assert "Başvuru, Kanun m. 28/2 kapsamındadır." in flat
        assert "Gülşen Öztürk" in flat and "Şişli" in flat and "0123456789012345" in flat
        for letter_ in "çğıöşüİÇŞÖÜ":
            assert letter_ in text, letter_
        assert letter.pages >= 1
        w.application.refresh_from_db()
        assert w.application.answer_pages >= letter.pages

        # when released, the application is answered and the applicant told, without content
        with django_capture_on_commit_callbacks(execute=True):
            letters.letter_release(letter, actor=w.officer)
        w.application.refresh_from_db()
        assert w.application.status == ApplicationStatus.ANSWERED
        assert w.application.outcome == "rejected"
        assert w.application.outcome_reasons == "Başvuru, Kanun m. 28/2 kapsamındadır."
        assert w.application.art28_exception == "a" and w.application.answered_at
        assert sent_tasks[-1][0] == "requests.tasks.answer_ready_mail"
        assert letters.answer_ready_mail_send(application_id=w.application.pk) == 1
        (mail,) = mailoutbox
        assert w.application.reference in mail.subject
        assert "28/2" not in mail.body and TTK not in mail.body
        assert "/basvuru/" in mail.body


def test_every_template_kind_has_a_turkish_default_the_controller_can_edit(acme):
    with tenant_context(acme):
        owner = User.objects.get(username="owner")
        officer = User.objects.get(username="colleague")
        kinds = {template.kind for template in letters.templates_all()}
        assert kinds == {"accepted", "partly_accepted", "rejected", "not_processed"}
        assert "Sayın {ad_soyad}" in letters.template_get("accepted").body
        with pytest.raises(PortalError):
            letters.template_save(kind="accepted", subject_line="x", body="y", actor=officer)
        letters.template_save(kind="accepted", subject_line="Cevabımız",
                              body="Merhaba {ad_soyad}\n{icerik}", actor=owner)  # fmt: skip
        w = world()
        draft = letters.letter_draft(w.application, outcome="accepted", actor=w.officer)
        assert draft.startswith("Merhaba Ayşe Yılmaz")


def test_a_failed_letter_shows_why_and_can_be_retried(acme, sent_tasks, monkeypatch):
    with tenant_context(acme):
        w = world()
        letter = letters.letter_compose(
            w.application, outcome="accepted", body="Kabul.", actor=w.officer
        )

        def broken(html):
            raise OSError("no fonts")

        monkeypatch.setattr(letters, "html_to_pdf_paged", broken)
        assert letters.letter_render(letter_id=letter.pk) == JobStatus.FAILED
        letter.refresh_from_db()
        assert letter.status == JobStatus.FAILED and letter.failure == "OSError: no fonts"
        assert letter.path == ""
        with pytest.raises(PortalError):
            letters.letter_release(letter, actor=w.officer)

        monkeypatch.undo()
        letters.letter_retry(letter, w.officer)
        letter.refresh_from_db()
        assert letter.status == JobStatus.QUEUED and letter.failure == ""
        assert letters.letter_render(letter_id=letter.pk) == JobStatus.READY


def test_the_package_pdf_names_identifiers_and_actors_in_turkish(acme, sent_tasks):
    with tenant_context(acme):
        w = world()
        built = package.package_request(w.application, actor=w.officer)
        package.package_build(package_id=built.pk)
        built.refresh_from_db()
        text = " ".join(pdf_text(stored(built, built.files["pdf"]["path"])).split())
        assert "T.C. kimlik numarası" in text or "T.C. Kimlik" in text
        assert "Veri sorumlusunun bir çalışanı" in text
        assert "colleague" not in text  # staff are named by role only
