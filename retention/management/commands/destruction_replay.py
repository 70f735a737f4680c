from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django_tenants.utils import schema_context

from retention.ledger import destruction_replay
from retention.models import DestroyedBatch
from subjects.crypto import KEYS_DATABASE


def _schema_exists(schema_name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = %s)", [schema_name])
        return cursor.fetchone()[0]


class Command(BaseCommand):
    help = (
        "Re-apply the ledger of destroyed ids (key database) to the data database after a "
        "restore: items and subjects it names are ended again, and the portal serves again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="only this controller's schema")

    def handle(self, *args, **options):
        if options["schema"]:
            schemas = [options["schema"]]
            if not _schema_exists(schemas[0]):
                raise CommandError(f"No schema {schemas[0]!r} in the data database.")
        else:
            schemas = sorted(
                name
                for name in DestroyedBatch.objects.using(KEYS_DATABASE)
                .values_list("schema_name", flat=True)
                .distinct()
                if _schema_exists(name)
            )
        for schema in schemas:
            with schema_context(schema):
                applied = destruction_replay()
            self.stdout.write(
                f"{schema}: {applied['records']} ledger records applied, "
                f"{applied['subjects']} subjects destroyed again"
            )
