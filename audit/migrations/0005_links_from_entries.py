"""Entries chained before links existed keep their place: their seq and hashes become links."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_chain_links")]

    operations = [
        migrations.RunSQL(
            "INSERT INTO audit_chainlink (seq, entry_id, prev_hash, entry_hash)"
            " SELECT seq, id, prev_hash, entry_hash FROM audit_auditentry ORDER BY seq",
            migrations.RunSQL.noop,
        )
    ]
