"""Move django-otp's plaintext static tokens into hashed backup codes, then drop their tables.

django_otp.plugins.otp_static is no longer installed, so its tables are read with plain SQL,
in the schema being migrated only (each controller's schema and public have their own).
Nothing of the plaintext codes is left: the tables go, and with them their permissions and
content types. A fresh database never had the tables; then there is nothing to do.
"""

from django.conf import settings
from django.db import migrations
from django.utils.crypto import salted_hmac

# Frozen copy of accounts.models.backup_code_hash (v1): the codes moved here must keep verifying.
KEY_SALT = "accounts.BackupCodeDevice.v1"
STATIC_TABLES = ("otp_static_statictoken", "otp_static_staticdevice")


def _hash(*, schema: str, user_id: int, code: str) -> str:
    normalised = "".join(code.split()).replace("-", "").lower()
    message = f"{schema}:{user_id}:{normalised}"
    return salted_hmac(
        KEY_SALT, message, secret=settings.SECRET_KEY, algorithm="sha256"
    ).hexdigest()


def _tables_here(cursor, names) -> set[str]:
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY(%s)",
        [list(names)],
    )
    return {row[0] for row in cursor.fetchall()}


def static_tokens_to_backup_codes(apps, schema_editor):
    BackupCodeDevice = apps.get_model("accounts", "BackupCodeDevice")
    BackupCode = apps.get_model("accounts", "BackupCode")
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
        if set(STATIC_TABLES) - _tables_here(cursor, STATIC_TABLES):
            return
        cursor.execute(
            "SELECT d.user_id, t.token FROM otp_static_staticdevice d "
            "JOIN otp_static_statictoken t ON t.device_id = d.id WHERE d.confirmed ORDER BY t.id"
        )
        tokens: dict[int, list[str]] = {}
        for user_id, token in cursor.fetchall():
            tokens.setdefault(user_id, []).append(token)
        for user_id, codes in tokens.items():
            device, _ = BackupCodeDevice.objects.get_or_create(
                user_id=user_id, name="backup", defaults={"confirmed": True}
            )
            BackupCode.objects.bulk_create(
                BackupCode(
                    device=device, code_hash=_hash(schema=schema, user_id=user_id, code=code)
                )
                for code in codes
            )
        quote = connection.ops.quote_name
        cursor.execute(
            "DROP TABLE {} ".format(", ".join(f"{quote(schema)}.{quote(t)}" for t in STATIC_TABLES))
        )
        cursor.execute("DELETE FROM django_migrations WHERE app = 'otp_static'")
        # Their permissions and content types go too, so no admin lists "static devices".
        cursor.execute("SELECT id FROM django_content_type WHERE app_label = 'otp_static'")
        content_types = [row[0] for row in cursor.fetchall()]
        if not content_types:
            return
        cursor.execute(
            "SELECT id FROM auth_permission WHERE content_type_id = ANY(%s)", [content_types]
        )
        permissions = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "DELETE FROM auth_group_permissions WHERE permission_id = ANY(%s)", [permissions]
        )
        cursor.execute(
            "DELETE FROM accounts_user_user_permissions WHERE permission_id = ANY(%s)",
            [permissions],
        )
        cursor.execute("DELETE FROM auth_permission WHERE id = ANY(%s)", [permissions])
        if _tables_here(cursor, ["django_admin_log"]):
            cursor.execute(
                "UPDATE django_admin_log SET content_type_id = NULL WHERE content_type_id = ANY(%s)",
                [content_types],
            )
        cursor.execute("DELETE FROM django_content_type WHERE id = ANY(%s)", [content_types])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_backup_code_device_and_invitation_revoked_at"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(static_tokens_to_backup_codes, migrations.RunPython.noop),
    ]
