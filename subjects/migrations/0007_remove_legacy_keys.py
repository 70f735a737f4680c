from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("subjects", "0006_move_keys_to_key_database")]

    operations = [
        migrations.DeleteModel(name="SubjectKey"),
        migrations.DeleteModel(name="TenantKey"),
    ]
