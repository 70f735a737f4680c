import time

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_tenant_model, schema_context

from audit.selectors import audit_chain_verify_recorded


def schemas_to_visit(schema: str | None) -> list[str]:
    """The schema asked for, or every schema with a tenant row (the platform's own included)."""
    if schema:
        return [schema]
    tenants = get_tenant_model().objects.order_by("schema_name")
    return list(tenants.values_list("schema_name", flat=True))


class Command(BaseCommand):
    help = (
        "Verify the hash chain of the processing log in one schema (--schema) or in every "
        "schema, and hold it against its signed checkpoints (the public schema's table and "
        "AUDIT_CHECKPOINT_LOG): each signature valid, each signed entry still there with the "
        "hash it had. Reports the first broken link; exits non-zero if any chain is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="Verify only this schema (default: all schemas).")

    def handle(self, *args, schema=None, **options):
        broken = []
        for name in schemas_to_visit(schema):
            began = time.perf_counter()
            with schema_context(name):
                report = audit_chain_verify_recorded()
            seconds = time.perf_counter() - began
            if report.ok:
                last = report.last_checkpoint
                signed = (
                    f", last signed #{last.seq} at {last.signed_at:%Y-%m-%d %H:%M} UTC"
                    if last
                    else ""
                )
                self.stdout.write(
                    f"{name}: OK, {report.entries} entries, {report.checkpoints} checkpoint(s)"
                    f"{signed} ({report.entries / max(seconds, 1e-9):,.0f} entries/s)"
                )
            else:
                broken.append(name)
                self.stdout.write(
                    f"{name}: BROKEN at entry #{report.broken_seq}: {report.reason} "
                    f"({report.entries} entries read)"
                )
        if broken:
            raise CommandError(f"Audit chain broken in: {', '.join(broken)}")
