from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_links_from_entries")]

    operations = [
        migrations.AlterModelOptions(
            name="auditentry",
            options={
                "ordering": ["-id"],
                "verbose_name": "audit entry",
                "verbose_name_plural": "audit entries",
            },
        ),
        migrations.RemoveIndex(model_name="auditentry", name="audit_action_seq_idx"),
        migrations.RemoveField(model_name="auditentry", name="seq"),
        migrations.RemoveField(model_name="auditentry", name="prev_hash"),
        migrations.RemoveField(model_name="auditentry", name="entry_hash"),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["action", "-id"], name="audit_action_id_idx"),
        ),
    ]
