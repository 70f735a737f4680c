"""Copy each schema's keys into the key database; subject keys get their own wrapping key.

Runs once per controller schema. The key database is written first and the
copy is idempotent (ON CONFLICT DO NOTHING), so a migration that fails later
and runs again copies nothing twice. Migrate the key database before the
schemas (`manage.py migrate --database keys`; make run does).
"""

from django.db import connections, migrations

from subjects.migrations import _frozen_crypto as frozen


def copy_keys(apps, schema_editor):
    schema = schema_editor.connection.schema_name
    old_tenant = apps.get_model("subjects", "TenantKey").objects.first()
    if old_tenant is None:
        return  # a new schema: nothing to move
    tenant = frozen.tenant_key(
        wrapped=old_tenant.wrapped_key, schema=schema, master_key_id=old_tenant.master_key_id
    )
    rows = apps.get_model("subjects", "SubjectKey").objects.values_list(
        "subject__uuid", "wrapped_key"
    )
    with connections["keys"].cursor() as keys:
        keys.execute(
            "INSERT INTO subjects_controllerkey (schema_name, master_key_id, wrapped_key, created_at,"
            " rotated_at) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (schema_name) DO NOTHING",
            [
                schema,
                old_tenant.master_key_id,
                bytes(old_tenant.wrapped_key),
                old_tenant.created_at,
                old_tenant.rotated_at,
            ],
        )
        for subject_uuid, wrapped in rows.iterator(chunk_size=2000):
            data_key = frozen.v1_open(tenant, wrapped, str(subject_uuid))
            keys.execute(
                "INSERT INTO subjects_subjectdatakey (schema_name, subject_uuid, wrapped_key, created_at)"
                " VALUES (%s, %s, %s, now()) ON CONFLICT (schema_name, subject_uuid) DO NOTHING",
                [
                    schema,
                    subject_uuid,
                    frozen.v2_wrap(tenant, data_key, schema=schema, subject_uuid=str(subject_uuid)),
                ],
            )


class Migration(migrations.Migration):
    dependencies = [("subjects", "0005_key_database")]

    operations = [migrations.RunPython(copy_keys)]
