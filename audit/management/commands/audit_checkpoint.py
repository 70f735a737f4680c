from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from audit.management.commands.audit_verify import schemas_to_visit
from audit.services import audit_checkpoint_take


class Command(BaseCommand):
    help = (
        "Sign the chain head of the processing log of one schema (--schema) or of every "
        "schema with the platform's key (PORTAL_SIGNING_KEY), after linking the entries still "
        "waiting. Stored in the public schema and appended to AUDIT_CHECKPOINT_LOG. Nightly "
        "the scheduler does the same for every active controller."
    )

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="Only this schema (default: all schemas).")

    def handle(self, *args, schema=None, **options):
        for name in schemas_to_visit(schema):
            with schema_context(name):
                checkpoint = audit_checkpoint_take(taken_by="manage.py audit_checkpoint")
            self.stdout.write(
                f"{name}: signed #{checkpoint.seq} {checkpoint.entry_hash[:16]}… "
                f"(key {checkpoint.key_id})"
            )
