"""The breach register: the Board's 72 hours from awareness, shown and reminded once at
each mark; the Board's form as a Turkish PDF; affected subjects told by a worker over SMTP."""

import os
import re
import subprocess
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Role
from audit.models import AuditEntry
from config.celery import app
from subjects import services, validation
from subjects.models import DataCategory, DataSubject
from tests.conftest import _start_worker, _stop, free_port, in_thread, portal_client, service_env
from tests.factories import staff_create
from tests.retention.test_backlog import _Inbox
from transfers import breaches
from transfers.models import Breach, BreachSubjectNotice
from transfers.tasks import breach_reminders

pytestmark = pytest.mark.django_db


def _breach(*, detected_hours_ago: float = 1, **fields) -> Breach:
    """A breach in the current schema, its awareness `detected_hours_ago` hours ago."""
    detected = timezone.now() - timedelta(hours=detected_hours_ago)
    values = {
        "title": "Müşteri veritabanına yetkisiz erişim",
        "occurred_at": detected - timedelta(hours=5),
        "detected_at": detected,
        "source": Breach.Source.EXTERNAL,
        "kind": Breach.Kind.CONFIDENTIALITY,
        "description": "Bir saldırgan CRM yedeğine erişti.",
        "estimated_persons": 1200,
        "estimated_records": 5400,
        "consequences": "Kimlik avı e-postaları alınabilir.",
        "measures_taken": "Erişim anahtarları değiştirildi.",
        "measures_planned": "Yedekler şifrelenecek.",
        "contact_name": "Zeynep Çelik",
        "contact_email": "kvkk@acme.com.tr",
        **fields,
    }
    category_ids = [DataCategory.objects.get(code="contact").pk]
    return breaches.breach_create(actor=None, category_ids=category_ids, **values)


def _form(**overrides) -> dict:
    now = timezone.localtime()
    data = {
        "title": "Kayıp dizüstü bilgisayar",
        "occurred_at": (now - timedelta(hours=14)).strftime("%Y-%m-%dT%H:%M"),
        "detected_at": (now - timedelta(hours=10)).strftime("%Y-%m-%dT%H:%M"),
        "source": "internal",
        "kind": "availability",
        "description": "",
        "estimated_persons": "30",
        "estimated_records": "90",
        "consequences": "Kişisel veriler üçüncü kişilerin eline geçebilir.",
        "measures_taken": "Cihaz uzaktan silindi.",
        "measures_planned": "",
        "contact_name": "Zeynep Çelik",
        "contact_email": "kvkk@acme.com.tr",
        "contact_phone": "",
    }
    return {**data, **overrides}


def _url(tenant, name, *args) -> str:
    with tenant_context(tenant):
        return reverse(name, args=args)


# --- The register and the clock ---------------------------------------------------------------


def test_a_breach_recorded_on_the_page_shows_the_hours_left_to_notify_the_board(acme, owner):
    page = owner.post(_url(acme, "transfers:breach_create"), _form())

    assert page.status_code == 302
    detail = owner.get(page["Location"]).content.decode()
    # detected ten hours ago: 62 of the 72 hours are left (61 h and some minutes)
    assert re.search(r"6[12] sa \d+ dk kaldı", detail), detail
    assert 'data-overdue="false"' in detail
    listing = owner.get(_url(acme, "transfers:breach_list")).content.decode()
    assert "Kayıp dizüstü bilgisayar" in listing


def test_the_clock_runs_from_awareness_so_a_breach_detected_80_hours_ago_is_overdue(acme, owner):
    with tenant_context(acme):
        breach = _breach(detected_hours_ago=80)

    page = owner.get(_url(acme, "transfers:breach_detail", breach.pk)).content.decode()

    assert 'data-overdue="true"' in page
    assert "süresi geçti" in page
    assert "son tarihten 8 saat sonra" in page
    dashboard = owner.get(_url(acme, "dashboard")).content.decode()
    assert 'id="breaches-open"' in dashboard and breach.title in dashboard


def test_the_first_notice_to_the_board_stops_the_clock(acme, owner):
    with tenant_context(acme):
        breach = _breach(detected_hours_ago=20)
    url = _url(acme, "transfers:breach_notice", breach.pk)
    sent = timezone.localtime().strftime("%Y-%m-%dT%H:%M")

    refused = owner.post(url, {"kind": "follow_up", "sent_at": sent, "content": "Ek bilgi"})
    assert refused.status_code == 400
    assert "Takip bildiriminden önce ilk bildirimi kaydedin." in refused.content.decode()

    assert (
        owner.post(url, {"kind": "first", "sent_at": sent, "content": "İlk bildirim"}).status_code
        == 302
    )
    page = owner.get(_url(acme, "transfers:breach_detail", breach.pk)).content.decode()
    assert "zamanında bildirildi" in page
    with tenant_context(acme):
        assert Breach.objects.get(pk=breach.pk).board_notified_at is not None


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        (
            {"detected_at": (timezone.localtime() - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")},
            "Bir ihlal, gerçekleşmeden önce tespit edilemez.",
        ),
        (
            {"estimated_persons": "-5"},
            "Bu değerin 0 değerinden büyük veya eşit olduğuna emin olun.",
        ),
        ({"estimated_records": "çok"}, "Tam bir sayı girin."),
        ({"occurred_at": "dün"}, "Geçerli bir tarih/saat girin."),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_nothing_is_saved(
    acme, owner, overrides, field_message
):
    page = owner.post(_url(acme, "transfers:breach_create"), _form(**overrides))

    assert page.status_code == 200
    assert field_message in page.content.decode()
    with tenant_context(acme):
        assert not Breach.objects.exists()


def test_auditors_read_breaches_but_cannot_record_or_change_them(acme, auditor):
    with tenant_context(acme):
        breach = _breach()

    assert auditor.get(_url(acme, "transfers:breach_list")).status_code == 200
    detail = auditor.get(_url(acme, "transfers:breach_detail", breach.pk))
    assert detail.status_code == 200
    assert "Bildirimi kaydet" not in detail.content.decode()
    assert auditor.get(_url(acme, "transfers:breach_create")).status_code == 403
    assert auditor.post(_url(acme, "transfers:breach_create"), _form()).status_code == 403
    assert auditor.post(_url(acme, "transfers:breach_edit", breach.pk), _form()).status_code == 403
    with tenant_context(acme):
        assert Breach.objects.count() == 1


def test_an_officer_edits_a_breach_and_a_moved_awareness_moves_the_clock(acme, colleague):
    with tenant_context(acme):
        breach = _breach(detected_hours_ago=2)
    detected = (timezone.localtime() - timedelta(hours=50)).strftime("%Y-%m-%dT%H:%M")
    occurred = (timezone.localtime() - timedelta(hours=60)).strftime("%Y-%m-%dT%H:%M")

    page = colleague.post(
        _url(acme, "transfers:breach_edit", breach.pk),
        _form(detected_at=detected, occurred_at=occurred),
    )

    assert page.status_code == 302
    detail = colleague.get(page["Location"]).content.decode()
    assert re.search(r"2[12] sa \d+ dk kaldı", detail)


def test_another_controller_never_sees_or_changes_a_breach(acme, globex, outsider):
    with tenant_context(acme):
        breach = _breach()

    assert outsider.get(_url(globex, "transfers:breach_detail", breach.pk)).status_code == 404
    assert (
        outsider.post(_url(globex, "transfers:breach_edit", breach.pk), _form()).status_code == 404
    )
    assert breach.title not in outsider.get(_url(globex, "transfers:breach_list")).content.decode()
    with tenant_context(globex):
        assert not Breach.objects.exists()


# --- Reminders ----------------------------------------------------------------------------


def _reminders_now(acme) -> list[str]:
    mail.outbox.clear()
    breach_reminders.apply(kwargs={"schema_name": "acme"}).get()
    return [message.subject for message in mail.outbox]


def test_the_admins_are_reminded_at_48_24_and_6_hours_left_and_when_overdue_each_once(acme):
    with tenant_context(acme):
        admins = {user.email for user in _admins()}
        breach = _breach(detected_hours_ago=10)  # 62 hours left: nothing yet
    assert _reminders_now(acme) == []

    steps = [(30, "41"), (49, "22"), (67, "4")]
    for hours_ago, hours_left in steps:
        with tenant_context(acme):
            Breach.objects.filter(pk=breach.pk).update(
                detected_at=timezone.now() - timedelta(hours=hours_ago, minutes=1),
                occurred_at=timezone.now() - timedelta(hours=hours_ago + 5),
            )
        subjects = _reminders_now(acme)
        assert subjects == [f"İhlal: Kurula bildirim için {hours_left} saat kaldı"] * len(admins)
        assert {message.to[0] for message in mail.outbox} == admins
        assert _reminders_now(acme) == []  # each mark once

    with tenant_context(acme):
        Breach.objects.filter(pk=breach.pk).update(
            detected_at=timezone.now() - timedelta(hours=73),
            occurred_at=timezone.now() - timedelta(hours=80),
        )
    assert _reminders_now(acme) == ["Süresi geçti: ihlal Kurula bildirilmedi"] * len(admins)
    assert _reminders_now(acme) == []


def _admins():
    from accounts.models import User

    return User.objects.filter(role=Role.CONTROLLER_ADMIN, is_active=True).exclude(email="")


def test_a_breach_recorded_late_gets_one_reminder_not_one_per_passed_mark(acme):
    with tenant_context(acme):
        count = _admins().count()
        _breach(detected_hours_ago=70)
    assert len(_reminders_now(acme)) == count
    assert _reminders_now(acme) == []


def test_a_breach_notified_to_the_board_is_not_reminded(acme):
    with tenant_context(acme):
        _breach(detected_hours_ago=70, board_notified_at=timezone.now() - timedelta(hours=1))
    assert _reminders_now(acme) == []


# --- The Board's form -----------------------------------------------------------------------


def test_the_board_notification_is_a_turkish_pdf_with_the_forms_fields(acme, auditor):
    with tenant_context(acme):
        acme.verbis_no = "VRB-123456"
        acme.save(update_fields=["verbis_no"])
        breach = _breach(detected_hours_ago=3)

    response = auditor.get(_url(acme, "transfers:breach_board_pdf", breach.pk))

    assert response["Content-Type"] == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    for expected in [
        "Kişisel Veri İhlal Bildirim Formu",
        "İlk bildirim",
        "Acme Perakende A.Ş.",
        "VRB-123456",
        "Gerçekleşme zamanı",
        "Tespit zamanı (farkına varma)",
        "Dış saldırı veya üçüncü kişi",
        "Veri kategorileri",
        "Tahmini kişi sayısı",
        "1200",
        "Tahmini kayıt sayısı",
        "5400",
        "Olası sonuçlar",
        "Alınan önlemler",
        "Alınması planlanan önlemler",
        "İrtibat kişisi",
        "Zeynep Çelik",
    ]:
        assert expected in text, expected
    follow_up = auditor.get(
        _url(acme, "transfers:breach_board_pdf", breach.pk) + "?notice=follow_up"
    )
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=follow_up.content, capture_output=True, check=True
    ).stdout.decode()
    assert "Takip bildirimi" in text


# --- Affected subjects ------------------------------------------------------------------------


def _records(*, with_email: int, without_email: int) -> list[dict]:
    rows = []
    for n in range(with_email + without_email):
        identifiers = (
            {"email": f"etkilenen{n}@ornek.com.tr"}
            if n < with_email
            else {"customer_no": f"M-{n:05d}"}
        )
        rows.append(
            {
                "group": "customer",
                "name": f"Etkilenen {n}",
                "identifiers": identifiers,
                "items": [
                    {
                        "category": "contact",
                        "purpose": "customer_service",
                        "legal_basis": "art5_2_c",
                        "source_system": "crm",
                        "value": f"Adres {n}",
                        "collected_at": "2024-03-01T10:00:00+03:00",
                    }
                ],
            }
        )
    return rows


def _register(**counts) -> None:
    inputs = validation.records_validate(records=_records(**counts))
    services.register_ingest(inputs=inputs, actor_label="test", source="test")


def test_subjects_are_chosen_by_a_posted_identifier_by_reference_and_by_group(acme, colleague):
    with tenant_context(acme):
        _register(with_email=3, without_email=1)
        breach = _breach()
        refs = [str(s.uuid) for s in DataSubject.objects.order_by("pk")[1:3]]
    url = _url(acme, "transfers:breach_subjects", breach.pk)

    assert (
        colleague.post(url, {"mode": "lookup", "value": "etkilenen0@ornek.com.tr"}).status_code
        == 302
    )
    assert colleague.post(url, {"mode": "refs", "refs": "\n".join(refs)}).status_code == 302
    with tenant_context(acme):
        assert breach.subject_notices.count() == 3
    not_found = colleague.post(url, {"mode": "lookup", "value": "kimse@ornek.com.tr"})
    assert not_found.status_code == 400
    assert "Bu tanımlayıcıyı taşıyan bir ilgili kişi kayıtta yok." in not_found.content.decode()
    bad_ref = colleague.post(url, {"mode": "refs", "refs": "not-a-ref"})
    assert bad_ref.status_code == 400
    with tenant_context(acme):
        group = DataSubject.objects.first().group
    assert colleague.post(url, {"mode": "filter", "group": group.pk}).status_code == 302
    with tenant_context(acme):
        assert breach.subject_notices.count() == 4  # each subject once


def test_the_notices_are_sent_by_a_worker_over_smtp_with_progress_and_every_send_logged(
    committed_tenant, django_capture_on_commit_callbacks
):
    # given a controller of its own (the worker reads only committed data) with three
    # affected subjects, two of them with an e-mail address
    tenant = committed_tenant("ihlalmail")

    def prepare():
        with tenant_context(tenant):
            staff_create(schema=tenant.schema_name, username="mailer", role=Role.CONTROLLER_ADMIN)
            _register(with_email=2, without_email=1)
            breach = _breach(contact_email="kvkk@ihlalmail.com.tr")
            breaches.subjects_affected_add(
                breach=breach,
                subject_ids=DataSubject.objects.values_list("pk", flat=True),
                actor=None,
            )
            return breach.pk

    breach_id = in_thread(prepare)
    inbox, port = _Inbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    queue = f"{os.environ['CELERY_QUEUE']}-breach-mail"
    worker = _start_worker(
        queue=queue,
        name="breach-mail",
        env={**service_env(), "EMAIL_PORT": str(port), "EMAIL_HOST": "127.0.0.1"},
    )
    client = portal_client(tenant, "mailer")
    send_task = app.send_task
    try:
        detail = client.get(_url(tenant, "transfers:breach_detail", breach_id)).content.decode()
        assert 'id="progress-pending">3<' in detail
        assert 'hx-get="' in detail  # the page polls while notices wait

        # when staff send the notices
        app.send_task = lambda name, **options: send_task(name, **{**options, "queue": queue})
        try:
            with django_capture_on_commit_callbacks(execute=True):
                sent = client.post(_url(tenant, "transfers:breach_notify", breach_id))
        finally:
            app.send_task = send_task
        assert sent.status_code == 302

        def finished():
            fragment = client.get(_url(tenant, "transfers:breach_progress", breach_id))
            return 'id="progress-pending">0<' in fragment.content.decode() and fragment

        deadline = time.monotonic() + 60
        while not (fragment := finished()) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        _stop(worker)
        smtp.stop()

    # then two e-mails went out over SMTP with the content decision 2019/271 asks for
    assert fragment, "the worker did not finish"
    text = fragment.content.decode()
    assert 'id="progress-sent">2<' in text and 'id="progress-unreachable">1<' in text
    assert 'hx-get="' not in text  # polling stops when nothing waits
    assert sorted(rcpt[0] for rcpt, _ in inbox.messages) == [
        "etkilenen0@ornek.com.tr",
        "etkilenen1@ornek.com.tr",
    ]
    body = inbox.messages[0][1].get_payload(decode=True).decode()
    for expected in [
        "Ne zaman gerçekleşti",
        "Hangi veriler",
        "Olası sonuçlar",
        "Alınan önlemler",
        "Alınması planlanan önlemler",
        "kvkk@ihlalmail.com.tr",
        "2019/271",
    ]:
        assert expected in body, expected
    # and every send is in the processing log with the subject's reference
    with tenant_context(tenant):
        notices = BreachSubjectNotice.objects.filter(breach_id=breach_id)
        sent_refs = {str(n.subject.uuid) for n in notices.filter(status="sent")}
        logged = set(
            AuditEntry.objects.filter(detail__event="breach_subject_notice").values_list(
                "subject_ref", flat=True
            )
        )
        assert logged == sent_refs and len(sent_refs) == 2
    page = client.get(_url(tenant, "transfers:breach_detail", breach_id)).content.decode()
    assert 'id="unreachable"' in page


def test_the_breach_list_takes_the_same_queries_for_three_breaches_or_thirty(
    acme, auditor, django_assert_max_num_queries
):
    url = _url(acme, "transfers:breach_list")
    with tenant_context(acme):
        for _ in range(3):
            _breach()
    auditor.get(url)  # warm the session and the caches
    with django_assert_max_num_queries(30) as few:
        assert auditor.get(url).status_code == 200
    with tenant_context(acme):
        for _ in range(27):
            _breach()
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = auditor.get(url)
    assert page.content.decode().count("breach-clock") == 30


def test_an_english_speaking_officer_reads_the_breach_in_english(acme):
    with tenant_context(acme):
        from accounts.models import User

        User.objects.filter(username="colleague").update(language="en")
        breach = _breach(detected_hours_ago=80)
    page = portal_client(acme, "colleague").get(_url(acme, "transfers:breach_detail", breach.pk))

    text = page.content.decode()
    assert "Notice to the Board (72 hours from awareness)" in text
    assert "8 hours past the deadline" in text
    assert "Outside attack or third party" in text


@pytest.mark.parametrize(
    "path",
    [
        "/transfers/breaches/99999999999999999999/",
        "/transfers/breaches/99999999999999999999/board.pdf",
        "/transfers/breaches/99999999999999999999/progress/",
        "/transfers/breaches/0/edit/",
    ],
)
def test_unknown_or_absurd_breach_addresses_answer_not_found(owner, path):
    assert owner.get(path).status_code == 404


def test_hostile_subject_choices_are_refused_and_nothing_is_added(acme, owner):
    with tenant_context(acme):
        breach = _breach()
    url = _url(acme, "transfers:breach_subjects", breach.pk)

    for data in [
        {"mode": "refs", "refs": "00000000-0000-0000-0000-000000000000"},
        {"mode": "refs", "refs": "x\x00y"},
        {"mode": "lookup", "value": "a" * 500},
        {"mode": "filter"},
        {"mode": "filter", "group": "99999999999999999999"},
        {"mode": "nonsense"},
    ]:
        assert owner.post(url, data).status_code == 400, data
    with tenant_context(acme):
        assert not breach.subject_notices.exists()
