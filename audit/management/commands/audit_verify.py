from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_tenant_model, schema_context

from audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = (
        "Verify the hash chain of the processing log in one schema (--schema) or in every "
        "schema, and report the first broken link. Exits non-zero if any chain is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="Verify only this schema (default: all schemas).")

    def handle(self, *args, schema=None, **options):
        schemas = (
            [schema]
            if schema
            else list(
                get_tenant_model()
                .objects.order_by("schema_name")
                .values_list("schema_name", flat=True)
            )
        )
        broken = []
        for name in schemas:
            with schema_context(name):
                report = audit_chain_verify()
            if report.ok:
                self.stdout.write(f"{name}: OK, {report.entries} entries")
            else:
                broken.append(name)
                self.stdout.write(
                    f"{name}: BROKEN at entry #{report.broken_seq}: {report.reason} "
                    f"({report.entries} entries read)"
                )
        if broken:
            raise CommandError(f"Audit chain broken in: {', '.join(broken)}")
