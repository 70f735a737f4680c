"""Signed checkpoints of each chain's head: a table of the public schema only, append-only."""

from django.db import migrations, models

# Only the public schema gets the table (config/routers.py): the hints send the SQL there too.
PUBLIC_ONLY = {"model_name": "checkpoint"}

FORWARD = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_checkpoint_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoint_no_truncate
    BEFORE TRUNCATE ON audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_checkpoint_no_truncate ON audit_checkpoint;
DROP TRIGGER IF EXISTS audit_checkpoint_no_update_delete ON audit_checkpoint;
DROP FUNCTION IF EXISTS audit_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_login_and_staff_actions")]

    operations = [
        migrations.CreateModel(
            name="Checkpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("schema_name", models.CharField(max_length=63, verbose_name="schema")),
                ("seq", models.PositiveBigIntegerField(verbose_name="sequence")),
                ("entry_hash", models.CharField(max_length=64, verbose_name="entry hash")),
                ("signed_at", models.DateTimeField(verbose_name="signed at")),
                ("taken_by", models.CharField(max_length=150, verbose_name="taken by")),
                ("key_id", models.CharField(max_length=16, verbose_name="key")),
                ("signature", models.CharField(max_length=128, verbose_name="signature")),
            ],
            options={
                "verbose_name": "checkpoint",
                "verbose_name_plural": "checkpoints",
                "ordering": ["-id"],
                "indexes": [
                    models.Index(fields=["schema_name", "-seq"], name="audit_checkpoint_head_idx")
                ],
            },
        ),
        migrations.RunSQL(FORWARD, BACKWARD, hints=PUBLIC_ONLY),
    ]
