from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("subjects", "0007_remove_legacy_keys")]

    operations = [
        migrations.AddField(
            model_name="datasubject",
            name="destruction_requested_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="historicaldatasubject",
            name="destruction_requested_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        # Filled for existing rows by 0009, then made unique by 0010.
        migrations.AddField(
            model_name="interaction",
            name="uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="historicalinteraction",
            name="uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
    ]
