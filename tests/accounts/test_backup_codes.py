"""Backup codes: stored only as keyed hashes, each usable once, renewed with a current code."""

import hashlib
from importlib import import_module

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import tenant_context

from accounts.models import BackupCode, BackupCodeDevice, Role, User
from accounts.second_factor import AUTHENTICATOR_CODE_INVALID, backup_codes_regenerate
from audit.models import Action, AuditEntry
from tests.conftest import in_thread, portal_client
from tests.factories import staff_create, totp_now

DATA_MIGRATION = "0003_static_tokens_to_hashed_backup_codes"


def _codes_for(username: str) -> list[str]:
    user = User.objects.get(username=username)
    return backup_codes_regenerate(user=user, token=totp_now(TOTPDevice.objects.get(user=user)))


def _backup_device(username: str) -> BackupCodeDevice:
    return BackupCodeDevice.objects.get(user__username=username)


def test_backup_codes_are_stored_only_as_keyed_hashes(acme):
    with tenant_context(acme):
        codes = _codes_for("colleague")
        stored = list(BackupCode.objects.filter(device__user__username="colleague"))

    assert len(stored) == len(codes) == len(set(codes))
    for row in stored:
        for code in codes:
            assert code not in row.code_hash
            assert code.replace("-", "") not in row.code_hash
            plain = code.replace("-", "").encode()
            assert row.code_hash != hashlib.sha256(plain).hexdigest()  # keyed, not a bare hash


def test_a_backup_code_works_once_however_it_is_typed(acme):
    with tenant_context(acme):
        code = _codes_for("colleague")[3]
        device = _backup_device("colleague")

        assert device.verify_token(f"  {code.upper().replace('-', ' ')} ")
        assert not device.verify_token(code)
        assert BackupCode.objects.filter(device=device).count() == 9


def test_a_stored_code_copied_to_another_user_lets_nobody_in(acme):
    with tenant_context(acme):
        code = _codes_for("colleague")[0]
        _codes_for("auditor")
        auditors = _backup_device("auditor")
        copied = BackupCode.objects.filter(device__user__username="colleague").first()
        BackupCode.objects.create(device=auditors, code_hash=copied.code_hash)

        assert not auditors.verify_token(code)


def test_regenerating_backup_codes_needs_a_current_authenticator_code(colleague, acme):
    with tenant_context(acme):
        old_code = _codes_for("colleague")[0]
        device = TOTPDevice.objects.get(user__username="colleague")
        stale = totp_now(device, offset_steps=-10)
        hashes_before = set(BackupCode.objects.values_list("code_hash", flat=True))
        regenerations = AuditEntry.objects.filter(action=Action.BACKUP_CODES_REGENERATED).count()

    response = colleague.post(reverse("accounts:backup_codes"), {"token": stale})

    assert response.status_code == 200
    assert response.context["codes_form"].errors["token"] == [str(AUTHENTICATOR_CODE_INVALID)]
    assert "doğrulama uygulamanızın şu anki kodu değil" in response.content.decode()
    with tenant_context(acme):
        assert set(BackupCode.objects.values_list("code_hash", flat=True)) == hashes_before
        assert _backup_device("colleague").verify_token(old_code)
        assert (
            AuditEntry.objects.filter(action=Action.BACKUP_CODES_REGENERATED).count()
            == regenerations
        )


def test_regenerated_backup_codes_replace_the_old_ones_and_are_logged(colleague, acme):
    with tenant_context(acme):
        old_code = _codes_for("colleague")[0]
        before = AuditEntry.objects.filter(action=Action.BACKUP_CODES_REGENERATED).count()
        device = TOTPDevice.objects.get(user__username="colleague")
        token = totp_now(device, offset_steps=1)  # the next code: the last one is spent

    response = colleague.post(reverse("accounts:backup_codes"), {"token": token})

    assert response.status_code == 200
    new_codes = response.context["codes"]
    assert new_codes[0] in response.content.decode()
    with tenant_context(acme):
        assert _backup_device("colleague").verify_token(new_codes[0])
        assert not _backup_device("colleague").verify_token(old_code)
        entries = AuditEntry.objects.filter(action=Action.BACKUP_CODES_REGENERATED)
        assert entries.count() == before + 1
        assert entries.latest("id").actor_label == "colleague"


def test_a_get_cannot_regenerate_backup_codes(colleague):
    assert colleague.get(reverse("accounts:backup_codes")).status_code == 405


def _legacy_static_tables(cursor, *, user_id: int, tokens: list[str]) -> None:
    """The two tables django-otp's static plugin had, with plaintext tokens in them."""
    cursor.execute(
        "CREATE TABLE otp_static_staticdevice (id serial PRIMARY KEY, user_id bigint NOT NULL,"
        " name varchar(64) NOT NULL, confirmed boolean NOT NULL)"
    )
    cursor.execute(
        "CREATE TABLE otp_static_statictoken (id serial PRIMARY KEY,"
        " device_id integer NOT NULL REFERENCES otp_static_staticdevice (id),"
        " token varchar(16) NOT NULL)"
    )
    cursor.execute(
        "INSERT INTO otp_static_staticdevice (user_id, name, confirmed)"
        " VALUES (%s, 'backup', true) RETURNING id",
        [user_id],
    )
    device_id = cursor.fetchone()[0]
    for token in tokens:
        cursor.execute(
            "INSERT INTO otp_static_statictoken (device_id, token) VALUES (%s, %s)",
            [device_id, token],
        )
    cursor.execute(
        "INSERT INTO django_migrations (app, name, applied) VALUES ('otp_static', '0001_initial', now())"
    )


def test_plaintext_static_tokens_become_hashed_codes_and_their_tables_go(committed_tenant):
    tenant = committed_tenant("staticco")
    tokens = ["abcdefgh", "ijklmnop"]

    def migrate_legacy_schema():
        # given: a schema as it was with django_otp.plugins.otp_static installed
        with tenant_context(tenant):
            user = staff_create(schema="staticco", username="eski", role=Role.AUDITOR)
            with connection.cursor() as cursor:
                _legacy_static_tables(cursor, user_id=user.pk, tokens=tokens)
            content_type = ContentType.objects.create(app_label="otp_static", model="staticdevice")
            Permission.objects.create(
                content_type=content_type, codename="view_staticdevice", name="Can view"
            )
            # when: the data migration runs on it
            migration = import_module(f"accounts.migrations.{DATA_MIGRATION}")
            state = MigrationLoader(connection).project_state(
                ("accounts", DATA_MIGRATION), at_end=False
            )
            with connection.schema_editor() as editor:
                migration.static_tokens_to_backup_codes(state.apps, editor)

    in_thread(migrate_legacy_schema, role="owner")

    def what_is_left():
        with tenant_context(tenant):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename LIKE %s",
                    ["staticco", "otp_static%"],
                )
                tables = cursor.fetchall()
                cursor.execute("SELECT count(*) FROM django_migrations WHERE app = 'otp_static'")
                recorded = cursor.fetchone()[0]
            stored = list(BackupCode.objects.values_list("code_hash", flat=True))
            device = _backup_device("eski")
            uses = [device.verify_token(code) for code in ("ABCD-EFGH", tokens[1], tokens[0])]
            return {
                "tables": tables,
                "recorded": recorded,
                "content_types": ContentType.objects.filter(app_label="otp_static").count(),
                "stored": stored,
                "uses": uses,
            }

    left = in_thread(what_is_left)

    assert left["tables"] == [] and left["recorded"] == 0 and left["content_types"] == 0
    assert len(left["stored"]) == 2
    assert not any(token in stored for token in tokens for stored in left["stored"])
    assert left["uses"] == [True, True, False]  # each moved code works, once


def test_the_platform_admin_shows_no_static_devices(db):
    admin = portal_client(None, "root")

    page = admin.get(reverse("admin:index", urlconf="config.urls_public")).content.decode()

    assert "otp_static" not in page
    assert "otp_totp" in page  # the authenticators are still listed
    assert "backupcode" not in page.lower()
