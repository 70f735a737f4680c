from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("requests", "0002_correction_item_unconstrained"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="application",
            index=models.Index(fields=["due_on", "id"], name="application_due_idx"),
        ),
        migrations.AddIndex(
            model_name="application",
            index=models.Index(
                fields=["assignee", "due_on", "id"], name="application_officer_due_idx"
            ),
        ),
    ]
