import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_integrity_error_action")]

    operations = [
        migrations.CreateModel(
            name="ChainLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seq", models.PositiveBigIntegerField(unique=True, verbose_name="sequence")),
                ("prev_hash", models.CharField(max_length=64)),
                ("entry_hash", models.CharField(max_length=64, unique=True)),
                (
                    "entry",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="link",
                        to="audit.auditentry",
                        verbose_name="audit entry",
                    ),
                ),
            ],
            options={
                "verbose_name": "chain link",
                "verbose_name_plural": "chain links",
                "ordering": ["seq"],
            },
        ),
        migrations.CreateModel(
            name="UnlinkedEntry",
            fields=[
                (
                    "entry",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="audit.auditentry",
                    ),
                ),
            ],
        ),
        # Links are append-only, like the entries (see 0002).
        migrations.RunSQL(
            """
            CREATE TRIGGER audit_link_no_update_delete
                BEFORE UPDATE OR DELETE ON audit_chainlink
                FOR EACH ROW EXECUTE FUNCTION audit_entry_refuse_change();
            CREATE TRIGGER audit_link_no_truncate
                BEFORE TRUNCATE ON audit_chainlink
                FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_refuse_change();
            """,
            """
            DROP TRIGGER IF EXISTS audit_link_no_truncate ON audit_chainlink;
            DROP TRIGGER IF EXISTS audit_link_no_update_delete ON audit_chainlink;
            """,
        ),
    ]
