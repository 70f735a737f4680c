"""Keys move to the key database: the new key tables there (the old ones go in 0007)."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("subjects", "0004_set_based_references")]

    operations = [
        # In the key database only (config.routers.KeyDatabaseRouter).
        migrations.CreateModel(
            name="ControllerKey",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("schema_name", models.CharField(max_length=63, unique=True)),
                ("master_key_id", models.CharField(max_length=40)),
                ("wrapped_key", models.BinaryField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("rotated_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.CreateModel(
            name="SubjectDataKey",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("schema_name", models.CharField(max_length=63)),
                ("subject_uuid", models.UUIDField()),
                ("wrapped_key", models.BinaryField()),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("schema_name", "subject_uuid"), name="one_key_per_subject"
                    )
                ],
            },
        ),
    ]
