"""Personal values are encrypted at rest, bound to their place; keys live in their own database."""

import importlib.util
import os
import re
import subprocess
import uuid as uuidlib
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections
from django.urls import reverse
from django_tenants.utils import schema_context, tenant_context

from audit.models import Action, AuditEntry
from subjects import crypto, selectors, services, validation
from subjects.crypto import ITEM_VALUE, SUBJECT_NAME, ValueTampered, forget_keyrings
from subjects.models import ControllerKey, DataSubject, PersonalDataItem, SubjectDataKey
from subjects.tasks import destruction_resume_task
from tests.conftest import in_thread
from tests.subjects.conftest import TCKN_AYSE, TCKN_MEHMET, subject_record

PLAINTEXTS = [TCKN_AYSE, f"ayse.{TCKN_AYSE}@example.com.tr", "Ayşe Yılmaz", "Çiçek Sok. No:5"]
# pgserver's client tools (PostgreSQL 16) read servers of 15 and 16; importing it is not needed.
PG_BIN = Path(importlib.util.find_spec("pgserver").origin).parent / "pginstall" / "bin"


def _dump_schema(schema: str, *, using: str = "default") -> dict[str, list[str]]:
    """Every row of every table of the schema as text, the way a backup would hold it."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        dump = {}
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{schema}"."{table}" t')
            dump[table] = [row[0] for row in cursor.fetchall()]
    return dump


def _ingest(*records) -> list[str]:
    result = services.register_ingest(
        inputs=validation.records_validate(records=list(records)), source="test"
    )
    return [str(uuid) for uuid in result.subjects]


def test_plaintext_personal_data_never_reaches_either_database(api, acme):
    api.post(reverse("api:subject_upsert"), subject_record())

    dump = {**_dump_schema("acme"), **_dump_schema("public", using="keys")}

    leaks = [
        (table, text)
        for table, rows in dump.items()
        for row in rows
        for text in PLAINTEXTS
        if text in row
    ]
    assert leaks == []
    assert dump["subjects_historicalpersonaldataitem"], "history rows exist and were searched too"


def test_the_data_database_holds_no_key_material(api, acme):
    uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]

    data = {**_dump_schema("acme"), **_dump_schema("public")}

    assert not [table for table in data if "key" in table and "subject" in table]
    stored_key = SubjectDataKey.objects.get(schema_name="acme", subject_uuid=uuid)
    tenant_key = ControllerKey.objects.get(schema_name="acme")
    for secret in (bytes(stored_key.wrapped_key), bytes(tenant_key.wrapped_key)):
        assert not any(secret.hex() in row for rows in data.values() for row in rows)


def test_look_up_is_one_query_on_the_blind_index(api, acme, django_assert_num_queries):
    uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]
    with tenant_context(acme):
        crypto.keyring()  # loaded once per process
        DataSubject.objects.exists()  # the schema's search_path is set on first use
        with django_assert_num_queries(1):
            [match] = selectors.subject_matches(value=TCKN_AYSE)
        assert (match.kind, str(match.subject.uuid)) == ("tckn", uuid)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = 'acme' AND tablename = 'subjects_subjectidentifier'"
            )
            assert any(
                "UNIQUE" in row[0] and "(blind_index)" in row[0] for row in cursor.fetchall()
            )


def test_destroyed_subject_is_unreadable_and_no_longer_found(acme):
    with tenant_context(acme):
        [uuid] = _ingest(subject_record())
        subject = DataSubject.objects.get(uuid=uuid)
        assert selectors.subject_decrypt(subject).name == "Ayşe Yılmaz"

        services.subject_key_destroy(subject=subject, actor_label="retention", reason="expired")

        assert not SubjectDataKey.objects.filter(schema_name="acme", subject_uuid=uuid).exists()
        view = selectors.subject_decrypt(DataSubject.objects.get(pk=subject.pk))
        assert view.destroyed and view.name == "" and view.items == []
        assert selectors.subject_matches(value=TCKN_AYSE) == []
        destroyed = AuditEntry.objects.get(action=Action.DESTROY, subject_ref=uuid)
        assert destroyed.detail["reason"] == "expired"


def test_nothing_can_be_added_to_a_destroyed_subject(api, acme):
    uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]
    with tenant_context(acme):
        services.subject_key_destroy(subject=DataSubject.objects.get(uuid=uuid), reason="request")
    response = api.post(reverse("api:items_add", args=[uuid]), {"items": subject_record()["items"]})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "subject_destroyed"


@pytest.mark.parametrize("failing_step", ["key", "report"])
def test_a_crash_between_the_destruction_steps_leaves_nothing_readable_or_reported(
    acme, monkeypatch, failing_step
):
    with tenant_context(acme):
        [uuid] = _ingest(subject_record())
        subject = DataSubject.objects.get(uuid=uuid)
        target = (
            (crypto, "subject_key_delete")
            if failing_step == "key"
            else (services, "_destruction_report")
        )
        monkeypatch.setattr(*target, lambda *a, **k: (_ for _ in ()).throw(RuntimeError("crash")))

        # when: the worker dies between the steps
        with pytest.raises(RuntimeError, match="crash"):
            services.subject_key_destroy(subject=subject, reason="retention expired")

        # then: nothing is reported, and nothing can be read or added meanwhile
        subject.refresh_from_db()
        assert subject.destruction_requested_at and subject.key_destroyed_at is None
        assert not AuditEntry.objects.filter(action=Action.DESTROY, subject_ref=uuid).exists()
        assert selectors.subject_decrypt(subject).destroyed
        with pytest.raises(validation.RecordErrors):
            _ingest(subject_record())

        # when: the hourly sweep finishes it
        monkeypatch.undo()
        assert destruction_resume_task.apply(kwargs={"schema_name": "acme"}).get() == 1

        # then: the key is gone and the destruction is reported, once
        subject.refresh_from_db()
        assert subject.key_destroyed_at is not None
        assert not crypto.subject_key_exists(uuid)
        assert AuditEntry.objects.filter(action=Action.DESTROY, subject_ref=uuid).count() == 1
        assert services.destruction_resume() == 0


def _tamper(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize("swap", ["between_rows", "between_fields", "from_history", "flipped_bit"])
def test_a_value_moved_or_changed_in_the_database_fails_its_integrity_check(acme, swap):
    item = subject_record()["items"][0]
    with tenant_context(acme):
        [uuid] = _ingest(subject_record(items=[item, {**item, "value": "Gül Sok. No:7"}]))
        subject = DataSubject.objects.get(uuid=uuid)
        first, second = PersonalDataItem.objects.filter(subject=subject).order_by("pk")
        if swap == "between_rows":
            _tamper(
                "UPDATE subjects_personaldataitem SET value_enc = %s WHERE id = %s",
                [bytes(second.value_enc), first.pk],
            )
        elif swap == "between_fields":
            _tamper(
                "UPDATE subjects_personaldataitem SET value_enc = %s WHERE id = %s",
                [bytes(subject.name_enc), first.pk],
            )
        elif swap == "from_history":
            history = second.history.get()
            _tamper(
                "UPDATE subjects_personaldataitem SET value_enc = %s WHERE id = %s",
                [bytes(history.value_enc), first.pk],
            )
        else:
            flipped = bytearray(first.value_enc)
            flipped[-1] ^= 1
            _tamper(
                "UPDATE subjects_personaldataitem SET value_enc = %s WHERE id = %s",
                [bytes(flipped), first.pk],
            )

        with pytest.raises(ValueTampered) as tampered:
            selectors.subject_decrypt(subject)
        assert tampered.value.place == ITEM_VALUE and tampered.value.row_id == first.pk


def test_a_history_row_opens_as_its_own_rows_earlier_value(acme):
    with tenant_context(acme):
        [uuid] = _ingest(subject_record())
        subject = DataSubject.objects.get(uuid=uuid)
        item = subject.items.get()
        services.item_update(item=item, value="Yeni adres")
        cipher = crypto.subject_cipher_of(subject)
        old = item.history.order_by("history_date").first()
        assert cipher.open(old.value_enc, ITEM_VALUE, old.id) == "Çiçek Sok. No:5 Kadıköy/İstanbul"
        with pytest.raises(ValueTampered):
            cipher.open(old.value_enc, SUBJECT_NAME, old.id)


def test_the_reader_sees_an_integrity_error_page_and_the_log_records_it(colleague, acme):
    with tenant_context(acme):
        [uuid] = _ingest(subject_record())
        subject = DataSubject.objects.get(uuid=uuid)
        _tamper(
            "UPDATE subjects_datasubject SET name_enc = %s WHERE id = %s",
            [bytes(subject.items.get().value_enc), subject.pk],
        )
    connection.set_schema_to_public()

    response = colleague.post(
        reverse("subjects:detail", args=[uuid]), {"purpose": "Başvuru yanıtı"}
    )

    assert response.status_code == 409
    page = response.content.decode()
    assert "Bütünlük hatası" in page and "Ayşe" not in page
    with tenant_context(acme):
        entry = AuditEntry.objects.filter(action=Action.INTEGRITY_ERROR).latest("id")
    assert entry.actor_label == "colleague"
    assert entry.detail == {
        "table": "subjects_datasubject",
        "column": "name_enc",
        "row": str(subject.pk),
    }


def test_master_key_rotation_rewraps_tenant_keys_and_data_stays_readable(api, acme, settings):
    uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]
    old = settings.PORTAL_MASTER_KEYS[0]
    new = "k2:" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
    settings.PORTAL_MASTER_KEYS = [new, old]

    call_command("rotate_master_key", schema="acme")

    settings.PORTAL_MASTER_KEYS = [new]  # the old secret is retired
    forget_keyrings()
    with tenant_context(acme):
        assert ControllerKey.objects.get(schema_name="acme").master_key_id == "k2"
        assert selectors.subject_decrypt(DataSubject.objects.get(uuid=uuid)).name == "Ayşe Yılmaz"
    forget_keyrings()


# --- Backups of the data database --------------------------------------------------------


def _pg(tool: str, *args: str) -> subprocess.CompletedProcess:
    server = connection.settings_dict
    return subprocess.run(
        [
            str(PG_BIN / tool),
            "-h",
            server["HOST"],
            "-p",
            str(server["PORT"]),
            "-U",
            "postgres",
            *args,
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )


def test_a_dump_of_the_data_database_decrypts_nothing_once_the_subject_is_destroyed(
    committed_tenant, tmp_path
):
    # given: a controller with a subject, committed, and a pg_dump of the data database
    tenant = committed_tenant("dumpco")

    def ingest():
        with tenant_context(tenant):
            return _ingest(subject_record(tckn=TCKN_MEHMET, identifiers={"tckn": TCKN_MEHMET}))[0]

    uuid = in_thread(ingest)
    data_db = connection.settings_dict["NAME"]
    dump = tmp_path / "data.sql"
    _pg("pg_dump", "--no-owner", "-f", str(dump), data_db)
    text = dump.read_text()
    wrapped = bytes(SubjectDataKey.objects.get(schema_name="dumpco", subject_uuid=uuid).wrapped_key)
    assert "dumpco" in text and wrapped.hex() not in text
    assert not re.findall(r"CREATE TABLE \S*(?:subjectdatakey|controllerkey|subjectkey)", text)

    # when: the subject is destroyed, and the old dump is restored into a database of its own
    def destroy():
        with tenant_context(tenant):
            services.subject_key_destroy(subject=DataSubject.objects.get(uuid=uuid), reason="test")

    in_thread(destroy)
    restored = f"{data_db}_restored"
    _pg("dropdb", "--if-exists", restored)
    _pg("createdb", "-O", settings.DB_OWNER_USER, restored)
    _pg("psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", restored, "-f", str(dump))

    # then: the restored copy still holds the subject's ciphertexts, but nothing opens them
    def read_restored():
        connections["default"].settings_dict["NAME"] = restored
        with schema_context("dumpco"):
            subject = DataSubject.objects.get(uuid=uuid)
            assert subject.key_destroyed_at is None  # the copy predates the destruction
            assert subject.items.exists()
            return selectors.subject_decrypt(subject)

    try:
        view = in_thread(read_restored)
    finally:
        _pg("dropdb", restored)
    assert view.destroyed and view.name == "" and view.items == []


# --- Data written before ciphertexts were bound to their place ---------------------------


def _v1_seal(key: bytes, text: str, subject_uuid: str) -> bytes:
    """The first format: a value bound to its subject only."""
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, text.encode(), subject_uuid.encode())


def _v1_wrap(tenant_key: bytes, data_key: bytes, subject_uuid: str) -> bytes:
    """The first format: a subject key wrapped by the raw tenant key."""
    nonce = os.urandom(12)
    return nonce + AESGCM(tenant_key).encrypt(nonce, data_key, subject_uuid.encode())


def test_data_written_before_the_key_database_and_bound_ciphertexts_stays_readable(db):
    """A schema at migration 0004 holds keys in its own tables and values bound to the subject
    only; migrating moves the keys to the key database and re-seals every value in place."""
    schema, subject_uuid = "legacyco", str(uuidlib.uuid4())
    tenant_key, data_key = AESGCM.generate_key(bit_length=256), AESGCM.generate_key(bit_length=256)

    def build_legacy_schema():
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
        call_command("migrate_schemas", "subjects", "0004", schema_name=schema, verbosity=0)
        wrapped_tenant = crypto.wrap_tenant_key(tenant_key, schema=schema, master_key_id="dev")
        with schema_context(schema), connection.cursor() as c:
            c.execute(
                "INSERT INTO subjects_tenantkey (singleton, master_key_id, wrapped_key, created_at)"
                " VALUES (true, 'dev', %s, now())",
                [wrapped_tenant],
            )
            c.execute(
                "INSERT INTO subjects_subjectgroup (code, name) VALUES ('c', 'C') RETURNING id"
            )
            group = c.fetchone()[0]
            c.execute(
                "INSERT INTO subjects_datacategory (code, name, special_category)"
                " VALUES ('contact', 'İletişim', '') RETURNING id"
            )
            category = c.fetchone()[0]
            c.execute(
                "INSERT INTO subjects_processingpurpose (code, name, is_active)"
                " VALUES ('cs', 'Destek', true) RETURNING id"
            )
            purpose = c.fetchone()[0]
            c.execute(
                "INSERT INTO subjects_datasubject (uuid, group_id, name_enc, created_at, updated_at)"
                " VALUES (%s, %s, %s, now(), now()) RETURNING id",
                [subject_uuid, group, _v1_seal(data_key, "Eski Kayıt", subject_uuid)],
            )
            subject_id = c.fetchone()[0]
            c.execute(
                "INSERT INTO subjects_subjectkey (subject_id, wrapped_key) VALUES (%s, %s)",
                [subject_id, _v1_wrap(tenant_key, data_key, subject_uuid)],
            )
            c.execute(
                "INSERT INTO subjects_subjectidentifier (subject_id, kind, value_enc, blind_index)"
                " VALUES (%s, 'customer_no', %s, %s)",
                [subject_id, _v1_seal(data_key, "ESKI-1", subject_uuid), b"\x01" * 32],
            )
            c.execute(
                "INSERT INTO subjects_personaldataitem (subject_id, category_id, purpose_id,"
                " legal_basis, source_system, value_enc, collected_at, created_at)"
                " VALUES (%s, %s, %s, 'art5_2_c', 'crm', %s, now(), now()) RETURNING id",
                [subject_id, category, purpose, _v1_seal(data_key, "Eski Adres", subject_uuid)],
            )
        call_command("migrate_schemas", schema_name=schema, verbosity=0)

    in_thread(build_legacy_schema, role="owner")
    try:
        forget_keyrings()
        with schema_context(schema):
            subject = DataSubject.objects.select_related("group").get(uuid=subject_uuid)
            view = selectors.subject_decrypt(subject)
            assert (view.name, view.identifiers, [i.value for i in view.items]) == (
                "Eski Kayıt",
                {"customer_no": "ESKI-1"},
                ["Eski Adres"],
            )
            assert bytes(subject.name_enc)[:1] == crypto.FORMAT
            with connection.cursor() as cursor:
                cursor.execute("SELECT to_regclass('subjects_subjectkey')")
                assert cursor.fetchone()[0] is None  # no key material left in the data database
    finally:
        forget_keyrings()  # the schema stays: this test's transaction still holds locks on it


def test_subject_keys_are_wrapped_by_a_derived_key_not_the_raw_tenant_key(acme):
    with tenant_context(acme):
        [uuid] = _ingest(subject_record())
        ring = crypto.keyring()
        stored = SubjectDataKey.objects.get(schema_name="acme", subject_uuid=uuid)
        wrapped = bytes(stored.wrapped_key)
        aad = f"kvkk|2|acme|subject-key|{uuid}".encode()
        with pytest.raises(InvalidTag):  # the tenant key that feeds HKDF does not unwrap it
            AESGCM(ring.tenant_key).decrypt(wrapped[1:13], wrapped[13:], aad)
        cipher = ring.subject_cipher(wrapped, uuid)  # the derived wrapping key does
        subject = DataSubject.objects.get(uuid=uuid)
        assert cipher.open(subject.name_enc, SUBJECT_NAME, subject.pk) == "Ayşe Yılmaz"
