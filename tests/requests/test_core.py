"""The core of applications: the 30-day clock, reference numbers, sealing, the workflow, and
duplicate linking only after identity is verified."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from audit.models import AuditEntry
from config.errors import PortalError
from config.kvkk import APPLICATION_ANSWER_DAYS
from requests import services
from requests.crypto import open_json, open_text
from requests.models import Application, ApplicationStatus, IdentityMethod
from subjects.crypto import ValueTampered
from subjects.validators import tckn_is_valid
from tests.requests.helpers import application, register_subject, tckn_make

pytestmark = pytest.mark.django_db
IST = ZoneInfo("Europe/Istanbul")


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (datetime(2026, 1, 31, 10, tzinfo=IST), date(2026, 3, 2)),  # over February's end
        (datetime(2028, 1, 31, 10, tzinfo=IST), date(2028, 3, 1)),  # leap year: 29 Feb
        (datetime(2026, 12, 15, 9, tzinfo=IST), date(2027, 1, 14)),  # over the year's end
        (datetime(2026, 4, 30, 23, 30, tzinfo=IST), date(2026, 5, 30)),
        # 23:30 in Istanbul is still the 30th there, though the 30th ended in UTC at 20:59.
        (datetime(2026, 4, 30, 20, 30, tzinfo=ZoneInfo("UTC")), date(2026, 5, 30)),
        (datetime(2026, 4, 30, 21, 30, tzinfo=ZoneInfo("UTC")), date(2026, 5, 31)),
    ],
)
def test_the_deadline_is_thirty_calendar_days_from_receipt_in_turkiye(received, due):
    assert APPLICATION_ANSWER_DAYS == 30
    assert services.due_on(received) == due


def test_references_count_up_per_year_and_restart_each_year(acme):
    with tenant_context(acme):
        first = application(received_at=datetime(2025, 12, 31, 12, tzinfo=IST))
        second = application(received_at=datetime(2026, 1, 1, 12, tzinfo=IST))
        third = application(received_at=datetime(2026, 1, 2, 12, tzinfo=IST))
    assert first.reference == "BSV-2025-000001"
    assert second.reference == "BSV-2026-000001"
    assert third.reference == "BSV-2026-000002"


def test_the_applicant_is_sealed_bound_to_its_row(acme):
    with tenant_context(acme):
        one = application(details="Adresim yanlış")
        two = application()
        assert open_json(one, "applicant_enc")["first_name"] == "Ayşe"
        assert open_text(one, "details_enc") == "Adresim yanlış"
        raw = bytes(Application.objects.get(pk=one.pk).applicant_enc)
        assert b"Ay\xc5\x9fe" not in raw
        two.applicant_enc = one.applicant_enc
        with pytest.raises(ValueTampered):
            open_json(two, "applicant_enc")


def test_registering_finds_the_register_subject_by_tckn_and_logs_it(acme):
    with tenant_context(acme):
        number = tckn_make(4242)
        assert tckn_is_valid(number)
        held = register_subject(tckn=number, email="kayitli@ornek.com.tr")
        known = application(tckn=number)
        unknown = application(tckn=tckn_make(4243))
        assert known.subject == held
        assert unknown.subject is None
        entry = AuditEntry.objects.filter(object_id=str(known.pk), action="create").get()
        assert entry.detail["reference"] == known.reference
        assert entry.subject_ref == str(held.uuid)


def test_the_workflow_refuses_a_skipped_step_and_changes_nothing(acme):
    with tenant_context(acme):
        app = application()
        with pytest.raises(PortalError):
            services.status_change(app, ApplicationStatus.CLOSED)
        app.refresh_from_db()
        assert app.status == ApplicationStatus.RECEIVED
        app = services.status_change(app, ApplicationStatus.IDENTITY_CHECK)
        assert app.history.count() == 2


def test_a_duplicate_is_linked_only_after_both_are_verified(acme):
    with tenant_context(acme):
        number = tckn_make(777)
        first = application(tckn=number, rights=("a", "b"))
        stranger = application(tckn=number, rights=("a",))
        # Neither is verified: nothing is linked, so a stranger cannot block the real person.
        assert stranger.duplicate_of is None
        first = services.identity_verified(first, method=IdentityMethod.EMAIL_CODE)
        assert first.duplicate_of is None
        assert first.status == ApplicationStatus.IN_PROGRESS
        other_right = application(tckn=number, rights=("e",))
        other_right = services.identity_verified(other_right, method=IdentityMethod.EMAIL_CODE)
        assert other_right.duplicate_of is None
        stranger = services.identity_verified(stranger, method=IdentityMethod.EMAIL_CODE)
        assert stranger.duplicate_of == first


def test_documents_are_sealed_under_random_names(acme):
    with tenant_context(acme):
        app = application()
        doc = services.document_store(
            app, kind="attachment", name="vekaletname.pdf", content=b"%PDF-1.4 gizli",
            content_type="application/pdf",
        )  # fmt: skip
        assert connection.schema_name in doc.path and app.reference not in doc.path
        assert services.document_content(doc) == b"%PDF-1.4 gizli"


def test_staff_cannot_skip_the_identity_check_or_answer_without_a_letter(acme):
    with tenant_context(acme):
        app = application()
        with pytest.raises(PortalError) as refused:
            services.status_change(app, ApplicationStatus.IN_PROGRESS)
        assert refused.value.code == "not_verified"
        app = services.identity_verified(app, method=IdentityMethod.STAFF_CHECK)
        with pytest.raises(PortalError) as refused:
            services.status_change(app, ApplicationStatus.ANSWERED)
        assert refused.value.code == "answer_by_letter"
        app.refresh_from_db()
        assert (app.status, app.outcome, app.answered_at) == ("in_progress", "", None)
