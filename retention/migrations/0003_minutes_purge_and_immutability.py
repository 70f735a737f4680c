"""Minutes are append-only: the database refuses to change them, and removes one only once its
keeping date has passed (Regulation Art. 7(3)); purges are recorded, and never changed."""

from django.db import migrations, models

FORWARD = """
CREATE OR REPLACE FUNCTION retention_minutes_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.keep_until < current_date THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'retention_destructionminutes: % refused (minutes are append-only and kept until their keeping date)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER retention_minutes_no_update_early_delete
    BEFORE UPDATE OR DELETE ON retention_destructionminutes
    FOR EACH ROW EXECUTE FUNCTION retention_minutes_guard();
CREATE TRIGGER retention_minutes_no_truncate
    BEFORE TRUNCATE ON retention_destructionminutes
    FOR EACH STATEMENT EXECUTE FUNCTION retention_minutes_guard();

CREATE OR REPLACE FUNCTION retention_minutes_purge_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'retention_minutespurge is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER retention_minutes_purge_no_update_delete
    BEFORE UPDATE OR DELETE ON retention_minutespurge
    FOR EACH ROW EXECUTE FUNCTION retention_minutes_purge_refuse_change();
CREATE TRIGGER retention_minutes_purge_no_truncate
    BEFORE TRUNCATE ON retention_minutespurge
    FOR EACH STATEMENT EXECUTE FUNCTION retention_minutes_purge_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS retention_minutes_purge_no_truncate ON retention_minutespurge;
DROP TRIGGER IF EXISTS retention_minutes_purge_no_update_delete ON retention_minutespurge;
DROP FUNCTION IF EXISTS retention_minutes_purge_refuse_change();
DROP TRIGGER IF EXISTS retention_minutes_no_truncate ON retention_destructionminutes;
DROP TRIGGER IF EXISTS retention_minutes_no_update_early_delete ON retention_destructionminutes;
DROP FUNCTION IF EXISTS retention_minutes_guard();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0002_engine_run_subject_ids"),
    ]

    operations = [
        migrations.CreateModel(
            name="MinutesPurge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("purged_at", models.DateTimeField(auto_now_add=True)),
                ("purged_through_seq", models.PositiveIntegerField()),
                ("records", models.PositiveIntegerField()),
                ("first_kept_seq", models.PositiveIntegerField()),
                ("anchor_hash", models.CharField(max_length=64)),
                ("key_id", models.CharField(max_length=32)),
                ("signature", models.CharField(max_length=128)),
            ],
            options={
                "verbose_name": "purge of destruction minutes",
                "verbose_name_plural": "purges of destruction minutes",
                "ordering": ["-purged_through_seq"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("purged_through_seq",), name="one_purge_per_anchor"
                    )
                ],
            },
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
