import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("subjects", "0009_fill_interaction_uuids")]

    operations = [
        migrations.AlterField(
            model_name="interaction",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="historicalinteraction",
            name="uuid",
            field=models.UUIDField(db_index=True, default=uuid.uuid4, editable=False),
        ),
    ]
