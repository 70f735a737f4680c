"""The processing-log page reads like a register: names, references, purposes, filters, export."""

import csv
import io
from datetime import UTC, datetime

import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tenants.utils import schema_context, tenant_context

from accounts.models import User
from audit import signing
from audit.models import Action, AuditEntry, ChainLink, Checkpoint
from audit.services import (
    audit_chain_link,
    audit_checkpoint_take,
    audit_entry_create,
    checkpoint_message,
)
from subjects import services, validation
from subjects.models import DataSubject, ProcessingPurpose
from tests.subjects.conftest import subject_record


def _subject(tenant, actor_username: str = "owner", **record) -> DataSubject:
    with tenant_context(tenant):
        inputs = validation.records_validate(records=[subject_record(**record)])
        services.register_ingest(
            inputs=inputs, actor=User.objects.get(username=actor_username), source="test"
        )
        return DataSubject.objects.latest("id")


def _rows(page) -> list:
    return page.context["rows"]


def test_an_entry_names_the_user_the_subject_and_the_purpose(owner, acme):
    subject = _subject(acme)
    with tenant_context(acme):
        purpose = ProcessingPurpose.objects.get(code="customer_service").name

    page = owner.get(reverse("audit:entries"), {"subject": str(subject.uuid)[:8]})

    row = _rows(page)[0]
    assert (row.user, row.subject_ref, row.purpose) == ("Owner Acme", str(subject.uuid), purpose)
    html = page.content.decode()
    assert reverse("subjects:detail", args=[subject.uuid]) in html
    assert str(subject.uuid)[:8] in html and purpose in html
    assert "subjects.DataSubject" not in html and "customer_service" not in html


def test_the_object_is_described_in_words(owner, acme):
    with tenant_context(acme):
        colleague = User.objects.get(username="colleague")
        audit_entry_create(
            action=Action.PERMISSION_CHANGE,
            actor=User.objects.get(username="owner"),
            target=colleague,
            detail={"event": "user_invited"},
        )

    page = owner.get(reverse("audit:entries"), {"action": Action.PERMISSION_CHANGE})

    # the owner reads the portal in Turkish
    assert _rows(page)[0].description == "Kullanıcı: Colleague Acme — personel davet edildi"
    assert "accounts.User" not in page.content.decode()


def test_a_purpose_stated_in_words_is_shown_as_stated(owner, acme):
    with tenant_context(acme):
        audit_entry_create(action=Action.READ, actor_label="x", purpose="Başvuru 2026/17 yanıtı")
    page = owner.get(reverse("audit:entries"), {"action": Action.READ})
    assert _rows(page)[0].purpose == "Başvuru 2026/17 yanıtı"


def test_filters_by_date_range_action_user_and_subject(owner, acme):
    with tenant_context(acme):
        owner_user = User.objects.get(username="owner")
        auditor_user = User.objects.get(username="auditor")
        with time_machine.travel(datetime(2026, 3, 1, 10, tzinfo=UTC), tick=False):
            audit_entry_create(action=Action.READ, actor=owner_user, subject_ref="aaaa1111")
        with time_machine.travel(datetime(2026, 3, 5, 10, tzinfo=UTC), tick=False):
            audit_entry_create(action=Action.EXPORT, actor=auditor_user, subject_ref="bbbb2222")
        with time_machine.travel(datetime(2026, 3, 9, 10, tzinfo=UTC), tick=False):
            audit_entry_create(action=Action.READ, actor=auditor_user, subject_ref="aaaa1111")

    def refs(**params) -> list[tuple[str, str]]:
        page = owner.get(reverse("audit:entries"), params)
        return [(row.subject_ref, f"{row.at:%d}") for row in _rows(page)]

    assert refs(date_from="2026-03-02", date_to="2026-03-06") == [("bbbb2222", "05")]
    assert refs(date_from="2026-03-01", date_to="2026-03-09", action=Action.READ) == [
        ("aaaa1111", "09"),
        ("aaaa1111", "01"),
    ]
    assert refs(user=auditor_user.pk, date_from="2026-03-01", date_to="2026-03-31") == [
        ("aaaa1111", "09"),
        ("bbbb2222", "05"),
    ]
    assert refs(subject="BBBB", date_to="2026-03-31") == [("bbbb2222", "05")]


def test_bad_filter_values_give_a_message_not_an_error(owner):
    page = owner.get(
        reverse("audit:entries"),
        {"subject": "'; drop", "date_from": "2026-02-30", "date_to": "dün", "user": "x"},
    )
    assert page.status_code == 200
    form = page.context["form"]
    assert set(form.errors) == {"subject", "date_from", "date_to", "user"}

    page = owner.get(reverse("audit:entries"), {"date_from": "2026-03-09", "date_to": "2026-03-01"})
    assert page.status_code == 200 and "date_to" in page.context["form"].errors


def test_the_export_is_the_filtered_entries_formula_safe_and_itself_logged(owner, acme):
    with tenant_context(acme):
        audit_entry_create(action=Action.LOGIN_FAILED, actor_label='=HYPERLINK("http://x","y")')
        audit_entry_create(action=Action.LOGIN_FAILED, actor_label="Şükrü")
        audit_entry_create(action=Action.READ, actor_label="not exported")

    response = owner.post(reverse("audit:export"), {"action": Action.LOGIN_FAILED})

    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Sıra", "Zaman", "Kullanıcı"]
    users = [row[2] for row in rows[1:]]
    assert users[:2] == ["Şükrü", '\'=HYPERLINK("http://x","y")']
    assert "not exported" not in users
    with tenant_context(acme):
        logged = AuditEntry.objects.filter(action=Action.EXPORT).latest("id")
    assert logged.actor_label == "owner"
    assert logged.detail["event"] == "audit_log_export"
    assert logged.detail["rows"] == len(rows) - 1
    assert logged.detail["filters"] == {"action": Action.LOGIN_FAILED}


def test_the_export_needs_a_post_and_a_reader_of_the_log(owner, colleague):
    assert owner.get(reverse("audit:export")).status_code == 405
    assert colleague.post(reverse("audit:export")).status_code == 403
    assert colleague.get(reverse("audit:entries")).status_code == 403


def test_the_page_shows_the_last_checkpoint_and_whether_the_chain_still_holds_it(owner, acme):
    with tenant_context(acme):
        audit_checkpoint_take(taken_by="nightly")
    page = owner.get(reverse("audit:entries")).content.decode()
    assert "Kontrol noktası tutuyor" in page and "(nightly)" in page
    assert signing.fingerprint() in page

    # a checkpoint, validly signed, of a hash the chain does not have at that place
    with tenant_context(acme):
        audit_entry_create(action=Action.READ, actor_label="x")
        audit_chain_link()
        head = ChainLink.objects.order_by("-seq").first()
    with schema_context("public"):
        signed_at = datetime(2026, 5, 1, tzinfo=UTC)
        message = checkpoint_message(
            schema_name="acme",
            seq=head.seq,
            entry_hash="f" * 64,
            signed_at=signed_at.isoformat(),
            taken_by="nightly",
            key_id=signing.key_id(),
        )
        Checkpoint.objects.create(
            schema_name="acme",
            seq=head.seq,
            entry_hash="f" * 64,
            signed_at=signed_at,
            taken_by="nightly",
            key_id=signing.key_id(),
            signature=signing.sign(message),
        )
    page = owner.get(reverse("audit:entries")).content.decode()
    assert "Zincir kontrol noktasıyla uyuşmuyor" in page


def test_the_page_shows_the_last_full_verification(owner, acme):
    call_command("audit_verify", schema="acme")
    page = owner.get(reverse("audit:entries")).content.decode()
    assert "Zincirin tamamı" in page and "kayıt sağlam" in page


def test_the_page_query_count_does_not_grow_with_rows(owner, acme, django_assert_max_num_queries):
    _subject(acme)
    with CaptureQueriesContext(connection) as one_row:
        owner.get(reverse("audit:entries"), {"action": Action.CREATE, "user": _owner_id(acme)})

    # then fifty rows of every kind: users, subjects, purposes, objects
    for n in range(12):
        _subject(acme, name=f"Kişi {n}", identifiers={"email": f"kisi{n}@ornek.com.tr"})
    with tenant_context(acme):
        for user in User.objects.all():
            audit_entry_create(action=Action.CREATE, actor=user, target=user, purpose="billing")
    with django_assert_max_num_queries(len(one_row)):
        page = owner.get(reverse("audit:entries"))
    assert len(_rows(page)) >= 15


def _owner_id(tenant) -> int:
    with tenant_context(tenant):
        return User.objects.get(username="owner").pk


def test_acts_of_no_person_are_the_systems(owner, acme):
    with tenant_context(acme):
        audit_entry_create(action=Action.TENANT_CHANGE, detail={"event": "provisioned"})
    row = _rows(owner.get(reverse("audit:entries"), {"action": Action.TENANT_CHANGE}))[0]
    assert (row.user, row.description) == ("Sistem", "veri sorumlusu kuruldu")
