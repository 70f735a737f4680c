"""A run's targets are marked done as HOT updates: no index holds done_at, and each page of
the table keeps room for the new row versions, so marking 5,000 targets writes no index."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0003_minutes_purge_and_immutability"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="destructiontarget",
            name="target_pending_idx",
        ),
        migrations.RunSQL(
            "ALTER TABLE retention_destructiontarget SET (fillfactor = 50)",
            "ALTER TABLE retention_destructiontarget RESET (fillfactor)",
        ),
    ]
