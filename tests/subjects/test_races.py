"""Two connections writing the register at once, on committed data of a controller of the test's own.

Each race is made real: the first writer is held inside its transaction (or between the
steps of a destruction) by an event until the second has come as far as it can, and the
second is seen waiting on the first's lock where the register makes it wait.
"""

import threading
import time
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django_tenants.utils import tenant_context

from accounts.models import User
from subjects import crypto, csv_import, services, validation
from subjects.api.auth import api_token_create
from subjects.models import CsvImport, DataSubject, PersonalDataItem, SubjectIdentifier
from tests.conftest import in_thread
from tests.subjects.conftest import TCKN_AYSE, TCKN_MEHMET, subject_record
from tests.subjects.test_csv_import import MEHMET, csv_bytes, row

WAIT = 30  # seconds any thread waits for another before the test gives up


class Background:
    """``in_thread`` without waiting: fn runs on connections of its own while the test goes on."""

    def __init__(self, function, *args, **kwargs):
        self.result = self.error = None

        def run():
            try:
                self.result = in_thread(function, *args, **kwargs)
            except BaseException as exc:
                self.error = exc

        self.thread = threading.Thread(target=run)
        self.thread.start()

    @property
    def done(self) -> bool:
        return not self.thread.is_alive()

    def join(self):
        self.thread.join(WAIT)
        assert self.done, "a racing thread did not finish"
        return self


class Hold:
    """Stops the thread that asked for it at one point, until the test releases it."""

    def __init__(self):
        self.reached, self.released, self.here = (
            threading.Event(),
            threading.Event(),
            threading.local(),
        )

    def arm(self):  # called by the thread to be held
        self.here.armed = True

    def point(self):  # where that thread stops, once
        if getattr(self.here, "armed", False):
            self.here.armed = False
            self.reached.set()
            assert self.released.wait(WAIT), "the held thread was never released"

    def wait_reached(self):
        assert self.reached.wait(WAIT), "the held thread never reached its point"


def _lock_waits() -> int:
    """Connections of the test database waiting for a lock right now."""

    def count():
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0]

    return in_thread(count)


def _until_waiting_or_done(second: Background) -> bool:
    """True once the second writer waits for a lock; False if it finished without waiting."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if second.done:
            return False
        if _lock_waits():
            return True
        time.sleep(0.05)
    raise AssertionError("the second writer neither waited nor finished")


def _ingest(tenant, record, *, hold: Hold | None = None):
    def work():
        if hold:
            hold.arm()
        with tenant_context(tenant):
            return services.register_ingest(
                inputs=validation.records_validate(records=[record]), source="race"
            )

    return work


def _slug(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


# --- An ingest and a destruction of the same subject ------------------------------------------


def _stored_subject(tenant) -> str:
    return str(in_thread(_ingest(tenant, subject_record())).subjects[0])


def _destroy(tenant, subject_uuid: str, *, hold: Hold | None = None):
    def work():
        if hold:
            hold.arm()
        with tenant_context(tenant):
            subject = DataSubject.objects.get(uuid=subject_uuid)
            return services.subject_key_destroy(subject=subject, reason="race")

    return work


def _extension() -> dict:
    """More data for the stored subject (found by its TCKN)."""
    record = subject_record(identifiers={"tckn": TCKN_AYSE})
    record["items"][0]["value"] = "Yeni adres"
    return record


def _after_both(tenant, subject_uuid: str) -> tuple[DataSubject, list[PersonalDataItem]]:
    def read():
        with tenant_context(tenant):
            subject = DataSubject.objects.get(uuid=subject_uuid)
            return subject, list(PersonalDataItem.objects.filter(subject=subject))

    return in_thread(read)


def test_an_ingest_holding_a_subject_makes_its_destruction_wait_and_is_destroyed_with_it(
    committed_tenant, monkeypatch
):
    # given a stored subject, and an ingest adding to it held inside its transaction
    tenant = committed_tenant(_slug("racei"))
    subject_uuid = _stored_subject(tenant)
    hold, lock = Hold(), services._lock_subjects

    def lock_and_hold(ids):
        locked = lock(ids)
        hold.point()
        return locked

    monkeypatch.setattr(services, "_lock_subjects", lock_and_hold)
    ingest = Background(_ingest(tenant, _extension(), hold=hold))
    hold.wait_reached()

    # when the subject is destroyed meanwhile
    destroy = Background(_destroy(tenant, subject_uuid))
    waited = _until_waiting_or_done(destroy)
    hold.released.set()
    ingest.join(), destroy.join()

    # then the destruction waited for the ingest, and took its items with the subject
    assert ingest.error is None and destroy.error is None
    subject, items = _after_both(tenant, subject_uuid)
    assert subject.key_destroyed_at is not None and len(items) == 2
    assert all(item.created_at < subject.destruction_requested_at for item in items)
    assert waited, "the destruction did not wait for the ingest's lock on the subject"


def test_an_ingest_into_a_subject_whose_destruction_has_begun_is_refused(
    committed_tenant, monkeypatch
):
    # given a stored subject whose destruction is held between its request and its key's deletion
    tenant = committed_tenant(_slug("raced"))
    subject_uuid = _stored_subject(tenant)
    hold, delete_key = Hold(), crypto.subject_key_delete

    def hold_then_delete(subject_uuid):
        hold.point()
        return delete_key(subject_uuid)

    monkeypatch.setattr(crypto, "subject_key_delete", hold_then_delete)
    destroy = Background(_destroy(tenant, subject_uuid, hold=hold))
    hold.wait_reached()

    # when an ingest adds to the subject meanwhile
    ingest = Background(_ingest(tenant, _extension())).join()
    hold.released.set()
    destroy.join()

    # then the ingest is refused and nothing was added to the subject
    assert isinstance(ingest.error, validation.RecordErrors), ingest.error
    assert ingest.error.errors == {"subjects[0]": [str(services.SUBJECT_DESTROYED)]}
    subject, items = _after_both(tenant, subject_uuid)
    assert subject.key_destroyed_at is not None and len(items) == 1
    assert all(item.created_at < subject.destruction_requested_at for item in items)


# --- Two ingests storing the same new identifier --------------------------------------------


def _hold_after_identifiers(monkeypatch) -> Hold:
    """Hold the armed ingest right after it stored its identifiers, its transaction open."""
    hold, copy = Hold(), services.copy_rows

    def copy_and_hold(model, columns, rows, **kwargs):
        copied = copy(model, columns, rows, **kwargs)
        if model is SubjectIdentifier:
            hold.point()
        return copied

    monkeypatch.setattr(services, "copy_rows", copy_and_hold)
    return hold


def _holders_of_tckn(tenant, tckn: str) -> int:
    def count():
        with tenant_context(tenant):
            index = crypto.keyring().blind_index("tckn", tckn)
            return SubjectIdentifier.objects.filter(blind_index=index).count()

    return in_thread(count)


def _api_post(tenant, raw_token: str, path: str, body: dict):
    def post():
        client = Client(HTTP_HOST=tenant.host, HTTP_AUTHORIZATION=f"Token {raw_token}")
        return client.post(path, body, content_type="application/json")

    return post


def _token(tenant) -> str:
    def create():
        with tenant_context(tenant):
            admin = User.objects.get(username="firstadmin")
            return api_token_create(name="crm", scope="write", created_by=admin)[1]

    return in_thread(create)


def test_the_second_api_call_storing_the_same_new_identifier_gets_a_clear_409(
    committed_tenant, monkeypatch
):
    # given an ingest that stored a new TCKN and is held before it commits
    tenant = committed_tenant(_slug("raceapi"))
    raw_token = _token(tenant)
    hold = _hold_after_identifiers(monkeypatch)
    first = Background(_ingest(tenant, subject_record(), hold=hold))
    hold.wait_reached()

    # when an API call stores the same TCKN for a new subject meanwhile
    other = subject_record(identifiers={"tckn": TCKN_AYSE, "email": "baska@example.com.tr"})
    second = Background(_api_post(tenant, raw_token, reverse("api:subject_upsert"), other))
    waited = _until_waiting_or_done(second)
    hold.released.set()
    first.join(), second.join()

    # then it waited for the first, and is answered 409 with a message, never a 500
    assert waited and first.error is None and second.error is None
    response = second.result
    assert response.status_code == 409, response.content
    with translation.override("tr"):
        assert response.json()["error"] == {
            "code": "identifier_conflict",
            "message": str(services.IDENTIFIER_CLAIMED),
            "fields": {},
        }
    assert _holders_of_tckn(tenant, TCKN_AYSE) == 1


def test_a_csv_row_storing_an_identifier_claimed_meanwhile_becomes_a_row_error(
    committed_tenant, monkeypatch
):
    # given a previewed valid-only import: row 2 gives Ayşe's TCKN with another e-mail
    tenant = committed_tenant(_slug("racecsv"))
    rows = [row(email="baska@example.com.tr"), row(**MEHMET)]

    def queued_import() -> int:
        with tenant_context(tenant):
            admin = User.objects.get(username="firstadmin")
            job = csv_import.csv_import_preview(
                file_name="yaris.csv", data=csv_bytes(rows), created_by=admin
            )
            CsvImport.objects.filter(pk=job.pk).update(
                status=CsvImport.Status.QUEUED, mode=CsvImport.Mode.VALID_ONLY
            )
            return job.pk

    job_id = in_thread(queued_import)
    # and an ingest that stored Ayşe's TCKN and is held before it commits
    hold = _hold_after_identifiers(monkeypatch)
    first = Background(_ingest(tenant, subject_record(), hold=hold))
    hold.wait_reached()

    # when the import runs meanwhile
    def run_import():
        with tenant_context(tenant):
            return csv_import.csv_import_execute(job_id=job_id)

    second = Background(run_import)
    waited = _until_waiting_or_done(second)
    hold.released.set()
    first.join(), second.join()

    # then row 2 is refused with a message and row 3 is imported; nothing crashed
    assert waited and first.error is None and second.error is None, second.error
    job = second.result
    assert job.status == CsvImport.Status.DONE
    assert (job.imported_subjects, job.imported_items) == (1, 1)
    report = job.report.splitlines()
    assert report[1].startswith("2,reddedildi,") and report[2].startswith("3,aktarıldı,")
    assert _holders_of_tckn(tenant, TCKN_AYSE) == 1
    assert _holders_of_tckn(tenant, TCKN_MEHMET) == 1


@pytest.fixture(autouse=True)
def _turkish():
    with translation.override("tr"):
        yield
