"""Re-seal every stored value bound to its place: schema, table, column, row id and subject.

Before, a value was bound only to its subject, so it could be moved between
fields, rows or history tables of that subject and still open. Runs once per
controller schema, in one transaction; attachment files are written anew and
the old ones removed after the commit. Values of destroyed subjects stay as
they are: nobody can open them anyway.
"""

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connections, migrations, transaction

from subjects.migrations import _frozen_crypto as frozen

# (table, column, key column, row-id column, subject-id column, the row's own table)
FIELDS = [
    ("subjects_datasubject", "name_enc", "id", "id", "id", "subjects_datasubject"),
    (
        "subjects_historicaldatasubject",
        "name_enc",
        "history_id",
        "id",
        "id",
        "subjects_datasubject",
    ),
    (
        "subjects_subjectidentifier",
        "value_enc",
        "id",
        "id",
        "subject_id",
        "subjects_subjectidentifier",
    ),
    (
        "subjects_personaldataitem",
        "value_enc",
        "id",
        "id",
        "subject_id",
        "subjects_personaldataitem",
    ),
    (
        "subjects_historicalpersonaldataitem",
        "value_enc",
        "history_id",
        "id",
        "subject_id",
        "subjects_personaldataitem",
    ),
    ("subjects_interaction", "text_enc", "id", "id", "subject_id", "subjects_interaction"),
    (
        "subjects_interaction",
        "attachment_name_enc",
        "id",
        "id",
        "subject_id",
        "subjects_interaction",
    ),
    (
        "subjects_historicalinteraction",
        "text_enc",
        "history_id",
        "id",
        "subject_id",
        "subjects_interaction",
    ),
    (
        "subjects_historicalinteraction",
        "attachment_name_enc",
        "history_id",
        "id",
        "subject_id",
        "subjects_interaction",
    ),
]
CHUNK = 5000


def _data_keys(schema: str) -> dict[str, bytes]:
    with connections["keys"].cursor() as keys:
        keys.execute(
            "SELECT master_key_id, wrapped_key FROM subjects_controllerkey WHERE schema_name = %s",
            [schema],
        )
        row = keys.fetchone()
        if row is None:
            return {}
        tenant = frozen.tenant_key(wrapped=row[1], schema=schema, master_key_id=row[0])
        keys.execute(
            "SELECT subject_uuid, wrapped_key FROM subjects_subjectdatakey WHERE schema_name = %s",
            [schema],
        )
        return {
            str(subject_uuid): frozen.v2_unwrap(
                tenant, wrapped, schema=schema, subject_uuid=str(subject_uuid)
            )
            for subject_uuid, wrapped in keys.fetchall()
        }


def rebind(apps, schema_editor):
    connection = schema_editor.connection
    schema = connection.schema_name
    data_keys = _data_keys(schema)
    if not data_keys:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, uuid FROM subjects_datasubject")
        subjects = {subject_id: str(subject_uuid) for subject_id, subject_uuid in cursor.fetchall()}

        def reseal(sealed, *, table, column, row_id, subject_id):
            subject_uuid = subjects.get(subject_id)
            key = data_keys.get(subject_uuid)
            if key is None:
                return None
            plaintext = frozen.v1_open(key, sealed, subject_uuid)
            return frozen.v2_seal(
                key,
                plaintext,
                schema=schema,
                table=table,
                column=column,
                row_id=row_id,
                subject_uuid=subject_uuid,
            )

        for table, column, key_column, row_column, subject_column, place in FIELDS:
            cursor.execute(
                f"SELECT {key_column}, {row_column}, {subject_column}, {column} FROM {table}"  # noqa: S608
                f" WHERE {column} IS NOT NULL"
            )
            updates = []
            for key_value, row_id, subject_id, sealed in cursor.fetchall():
                new = reseal(
                    sealed, table=place, column=column, row_id=row_id, subject_id=subject_id
                )
                if new is not None:
                    updates.append((key_value, new))
            for start in range(0, len(updates), CHUNK):
                chunk = updates[start : start + CHUNK]
                cursor.execute(
                    f"UPDATE {table} t SET {column} = v.val FROM"  # noqa: S608
                    " (SELECT unnest(%s::bigint[]) AS pk, unnest(%s::bytea[]) AS val) v"
                    f" WHERE t.{key_column} = v.pk",
                    [[pk for pk, _ in chunk], [val for _, val in chunk]],
                )
        cursor.execute(
            "SELECT id, subject_id, uuid, attachment_path FROM subjects_interaction"
            " WHERE attachment_path <> ''"
        )
        replaced = []
        for row_id, subject_id, interaction_uuid, path in cursor.fetchall():
            if not default_storage.exists(path):
                continue
            with default_storage.open(path) as handle:
                new = reseal(
                    handle.read(),
                    table="subjects_interaction",
                    column="attachment_file",
                    row_id=row_id,
                    subject_id=subject_id,
                )
            if new is None:
                continue
            new_path = default_storage.save(
                f"{schema}/interactions/{interaction_uuid.hex}.bin", ContentFile(new)
            )
            cursor.execute(
                "UPDATE subjects_interaction SET attachment_path = %s WHERE id = %s",
                [new_path, row_id],
            )
            replaced.append(path)
    transaction.on_commit(lambda: [default_storage.delete(path) for path in replaced])


class Migration(migrations.Migration):
    dependencies = [("subjects", "0010_interaction_uuid_unique")]

    operations = [migrations.RunPython(rebind)]
