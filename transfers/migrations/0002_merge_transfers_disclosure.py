# Joins the transfer log's and the disclosure desk's first migrations (developed side by side).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("transfers", "0001_disclosure"),
        ("transfers", "0001_transfers"),
    ]

    operations = []
