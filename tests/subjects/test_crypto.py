"""Personal values are encrypted at rest; destroying a subject's key destroys every copy."""

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import connection
from django.urls import reverse
from django_tenants.utils import tenant_context

from subjects import selectors, services
from subjects.crypto import NONCE_BYTES, forget_keyrings, keyring
from subjects.models import KEY_STORE_TABLES, DataSubject, SubjectKey
from tests.subjects.conftest import TCKN_AYSE, subject_record

PLAINTEXTS = [TCKN_AYSE, f"ayse.{TCKN_AYSE}@example.com.tr", "Ayşe Yılmaz", "Çiçek Sok. No:5"]


def _dump_schema(schema: str, *, exclude: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Every row of every table of the schema as text, the way a backup would hold it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        tables = [row[0] for row in cursor.fetchall() if row[0] not in exclude]
        dump = {}
        for table in tables:
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{schema}"."{table}" t')
            dump[table] = [row[0] for row in cursor.fetchall()]
    return dump


def test_plaintext_personal_data_never_reaches_the_database(api, acme):
    api.post(reverse("api:subject_upsert"), subject_record())

    dump = _dump_schema("acme")

    leaks = [
        (table, text)
        for table, rows in dump.items()
        for row in rows
        for text in PLAINTEXTS
        if text in row
    ]
    assert leaks == []
    assert dump["subjects_historicalpersonaldataitem"], "history rows exist and were searched too"


def test_look_up_is_one_query_on_the_blind_index(api, acme, django_assert_num_queries):
    uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]
    with tenant_context(acme):
        keyring()  # loaded once per process
        DataSubject.objects.exists()  # the schema's search_path is set on first use
        with django_assert_num_queries(1):
            found = selectors.subject_find(value=TCKN_AYSE)
        assert str(found.uuid) == uuid
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = 'acme' AND tablename = 'subjects_subjectidentifier'"
            )
            assert any(
                "UNIQUE" in row[0] and "(blind_index)" in row[0] for row in cursor.fetchall()
            )


def test_a_backup_of_the_data_is_useless_once_the_subject_key_is_destroyed(api, acme):
    # given: a subject, and a data backup taken while it was live (the key store is backed up apart)
    uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]
    with tenant_context(acme):
        subject = DataSubject.objects.get(uuid=uuid)
        backup = _dump_schema("acme", exclude=KEY_STORE_TABLES)
        item_ciphertext = bytes(subject.items.get().value_enc)
        assert selectors.subject_decrypt(subject).name == "Ayşe Yılmaz"

        # when
        services.subject_key_destroy(
            subject=subject, actor_label="retention", reason="retention expired"
        )

        # then: the key is gone from the database, and the backup never held it
        assert not SubjectKey.objects.filter(subject_id=subject.pk).exists()
        assert not any("wrapped_key" in row for rows in backup.values() for row in rows)
        forget_keyrings()
        ring = keyring()  # even whoever holds the tenant key cannot open the values
        with pytest.raises(InvalidTag):
            AESGCM(ring.tenant_key).decrypt(
                item_ciphertext[:NONCE_BYTES], item_ciphertext[NONCE_BYTES:], uuid.encode()
            )
        view = selectors.subject_decrypt(DataSubject.objects.get(pk=subject.pk))
        assert view.destroyed and view.name == "" and view.items == []
        # the identifiers and their blind indexes are gone: the person can no longer be found
        assert selectors.subject_find(value=TCKN_AYSE) is None


def test_nothing_can_be_added_to_a_destroyed_subject(api, acme):
    uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]
    with tenant_context(acme):
        services.subject_key_destroy(subject=DataSubject.objects.get(uuid=uuid), reason="request")
    response = api.post(reverse("api:items_add", args=[uuid]), {"items": subject_record()["items"]})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "subject_destroyed"


def test_master_key_rotation_rewraps_tenant_keys_and_data_stays_readable(api, acme, settings):
    from django.core.management import call_command

    uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]
    old = settings.PORTAL_MASTER_KEYS[0]
    new = "k2:" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
    settings.PORTAL_MASTER_KEYS = [new, old]

    call_command("rotate_master_key", schema="acme")

    settings.PORTAL_MASTER_KEYS = [new]  # the old secret is retired
    forget_keyrings()
    with tenant_context(acme):
        from subjects.models import TenantKey

        assert TenantKey.objects.get().master_key_id == "k2"
        assert selectors.subject_decrypt(DataSubject.objects.get(uuid=uuid)).name == "Ayşe Yılmaz"
    forget_keyrings()
