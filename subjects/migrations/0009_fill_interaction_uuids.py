"""Existing interactions get their uuid, which download links name instead of the row id."""

from django.db import migrations


def fill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE subjects_interaction SET uuid = gen_random_uuid() WHERE uuid IS NULL"
        )
        cursor.execute(
            "UPDATE subjects_historicalinteraction h SET uuid = i.uuid"
            " FROM subjects_interaction i WHERE h.id = i.id AND h.uuid IS NULL"
        )


class Migration(migrations.Migration):
    dependencies = [("subjects", "0008_destruction_request_and_interaction_uuid")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
