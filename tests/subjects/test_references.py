"""The register's references are enforced by PostgreSQL per statement (migration 0004).

Items and identifiers are written in bulk, so their references to subjects,
categories and purposes are checked once per statement instead of once per row.
These tests hold those checks to what a FOREIGN KEY guarantees, straight
against the database: no row may name something missing, nothing still named
may go away, and the same holds between two concurrent transactions.
"""

import threading
import time
import uuid
from contextlib import contextmanager

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django_tenants.utils import tenant_context
from psycopg import errors as pg_errors

from accounts.models import User
from subjects import bulk, services, validation
from subjects.models import (
    DataCategory,
    DataSubject,
    PersonalDataItem,
    SubjectIdentifier,
)
from tests.subjects.conftest import subject_record

MISSING = 2_000_000_000

ITEM_INSERT = (
    "INSERT INTO subjects_personaldataitem (subject_id, category_id, purpose_id, legal_basis,"
    " source_system, value_enc, collected_at, created_at)"
    " VALUES (%s, %s, %s, 'art5_2_c', 'crm', '\\x00', now(), now())"
)


@pytest.fixture
def stored(acme):
    """One subject with one item, stored through the register; yields (subject, item)."""
    with tenant_context(acme):
        services.register_ingest(
            inputs=validation.records_validate(records=[subject_record()]), source="test"
        )
        item = PersonalDataItem.objects.select_related("subject").get()
        yield item.subject, item


def refused(sql: str, params: list) -> None:
    """The statement fails as a foreign-key violation and leaves nothing behind."""
    with (
        pytest.raises(IntegrityError) as caught,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)
    assert isinstance(caught.value.__cause__, pg_errors.ForeignKeyViolation), caught.value


def test_an_item_naming_a_missing_subject_category_or_purpose_is_refused(stored):
    subject, item = stored
    refs = [subject.pk, item.category_id, item.purpose_id]
    for position in range(3):
        params = refs.copy()
        params[position] = MISSING
        refused(ITEM_INSERT, params)
    assert PersonalDataItem.objects.count() == 1
    with connection.cursor() as cursor:  # the same statement with real references goes in
        cursor.execute(ITEM_INSERT, refs)
    assert PersonalDataItem.objects.count() == 2


def test_changing_an_items_category_to_a_missing_one_is_refused(stored):
    _, item = stored
    refused(
        "UPDATE subjects_personaldataitem SET category_id = %s WHERE id = %s", [MISSING, item.pk]
    )
    item.refresh_from_db()
    assert item.category.code == "contact"


def test_a_copy_of_identifiers_for_a_missing_subject_is_refused(stored):
    subject, _ = stored
    first, second = bulk.reserve_ids(SubjectIdentifier, 2)
    rows = [
        (first, subject.pk, "customer_no", b"\x01", b"a" * 32),
        (second, MISSING, "customer_no", b"\x02", b"b" * 32),
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.copy_rows(SubjectIdentifier, services.IDENTIFIER_COLUMNS, rows)
    assert SubjectIdentifier.objects.filter(kind="customer_no").count() == 0


def test_a_category_purpose_or_subject_in_use_cannot_be_deleted(stored):
    subject, item = stored
    for table, pk in [
        ("subjects_datacategory", item.category_id),
        ("subjects_processingpurpose", item.purpose_id),
        ("subjects_datasubject", subject.pk),
    ]:
        refused(f"DELETE FROM {table} WHERE id = %s", [pk])
    refused("UPDATE subjects_datacategory SET id = %s WHERE id = %s", [MISSING, item.category_id])
    # Django's own rules are unchanged: PROTECT for the inventory, CASCADE for the subject
    with pytest.raises(ProtectedError):
        DataCategory.objects.get(pk=item.category_id).delete()
    assert DataCategory.objects.filter(pk=item.category_id).exists()
    DataSubject.objects.get(pk=subject.pk).delete()
    assert not PersonalDataItem.objects.exists()
    assert not SubjectIdentifier.objects.exists()


def test_an_unused_category_can_still_be_deleted(acme):
    with tenant_context(acme):
        DataCategory.objects.create(code="spare", name="Yedek")
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM subjects_datacategory WHERE code = 'spare'")
        assert not DataCategory.objects.filter(code="spare").exists()


# --- Two transactions at once ---------------------------------------------------------------
# The checks above run inside the test's own transaction. Here two separate connections
# race on committed rows (created and removed by the test itself), as two workers would.


@contextmanager
def two_connections(schema: str):
    settings = connection.settings_dict
    params = {
        "host": settings["HOST"],
        "port": settings["PORT"],
        "user": settings["USER"],
        "dbname": settings["NAME"],
        "options": f"-c search_path={schema} -c lock_timeout=20s",
    }
    if settings["PASSWORD"]:
        params["password"] = settings["PASSWORD"]
    with psycopg.connect(**params) as first, psycopg.connect(**params) as second:
        yield first, second


def _scratch_rows(conn) -> tuple[int, int, int]:
    """A committed category, subject and purpose for the race; removed by _scratch_drop."""
    with conn.transaction():
        category = conn.execute(
            "INSERT INTO subjects_datacategory (code, name, special_category)"
            " VALUES (%s, 'Yarış', '') RETURNING id",
            [f"race-{uuid.uuid4().hex[:8]}"],
        ).fetchone()[0]
        subject = conn.execute(
            "INSERT INTO subjects_datasubject (uuid, group_id, name_enc, created_at, updated_at)"
            " VALUES (%s, (SELECT min(id) FROM subjects_subjectgroup), '\\x00', now(), now())"
            " RETURNING id",
            [uuid.uuid4()],
        ).fetchone()[0]
        purpose = conn.execute("SELECT min(id) FROM subjects_processingpurpose").fetchone()[0]
    return category, subject, purpose


def _scratch_drop(conn, category: int, subject: int) -> None:
    conn.rollback()
    with conn.transaction():
        conn.execute("DELETE FROM subjects_personaldataitem WHERE subject_id = %s", [subject])
        conn.execute("DELETE FROM subjects_datasubject WHERE id = %s", [subject])
        conn.execute("DELETE FROM subjects_datacategory WHERE id = %s", [category])


def _in_thread(work) -> tuple[threading.Thread, list]:
    outcome: list = []

    def run():
        try:
            work()
            outcome.append(None)
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _wait_until_blocked(conn, pid: int) -> None:
    for _ in range(200):
        waiting = conn.execute(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", [pid]
        ).fetchone()[0]
        if waiting:
            return
        time.sleep(0.05)
    raise AssertionError("the second transaction never waited for the first")


@pytest.mark.parametrize("first_move", ["insert", "delete"])
def test_a_concurrent_insert_and_delete_never_leave_an_item_without_its_category(acme, first_move):
    with two_connections(acme.schema_name) as (inserter, deleter):
        category, subject, purpose = _scratch_rows(inserter)

        def insert():
            inserter.execute(ITEM_INSERT, [subject, category, purpose])

        def delete():
            deleter.execute("DELETE FROM subjects_datacategory WHERE id = %s", [category])

        try:
            first, second = (insert, delete) if first_move == "insert" else (delete, insert)
            first_conn, second_conn = (
                (inserter, deleter) if first_move == "insert" else (deleter, inserter)
            )
            first()  # its transaction stays open
            thread, outcome = _in_thread(second)
            _wait_until_blocked(first_conn, second_conn.info.backend_pid)
            first_conn.commit()
            thread.join(timeout=30)
            assert isinstance(outcome[0], pg_errors.ForeignKeyViolation), outcome
            second_conn.rollback()
            orphans = inserter.execute(
                "SELECT count(*) FROM subjects_personaldataitem i"
                " LEFT JOIN subjects_datacategory c ON c.id = i.category_id"
                " WHERE i.subject_id = %s AND c.id IS NULL",
                [subject],
            ).fetchone()[0]
            assert orphans == 0
        finally:
            _scratch_drop(inserter, category, subject)


def test_bulk_ingest_records_each_new_row_in_its_history(acme):
    with tenant_context(acme):
        owner = User.objects.get(username="owner")
        records = [subject_record(), subject_record("12345678950", name="Mehmet Kaya")]
        result = services.register_ingest(
            inputs=validation.records_validate(records=records), actor=owner, source="test"
        )
        items = PersonalDataItem.objects.all()
        assert result.items == items.count() == 2
        for model, rows in [(PersonalDataItem, items), (DataSubject, DataSubject.objects.all())]:
            history = model.history.filter(history_type="+")
            assert sorted(history.values_list("id", flat=True)) == sorted(r.pk for r in rows)
            assert {(h.history_user_id, h.history_change_reason) for h in history} == {
                (owner.pk, "ingest:test")
            }
        stored = items.get(subject__uuid=result.created[1])
        assert stored.history.get().value_enc == stored.value_enc
