from django.core.management.base import BaseCommand
from django.db import transaction
from django_tenants.utils import get_tenant_model, schema_context

from audit.models import Action
from audit.services import audit_entry_create
from subjects.crypto import current_master_key_id, tenant_key_rewrap


class Command(BaseCommand):
    help = (
        "Re-wrap every controller's tenant key under the current master secret (the first entry "
        "of PORTAL_MASTER_KEYS). List the new key first and keep the old one listed until this "
        "has run; then remove the old one. No data is re-encrypted and the portal keeps running."
    )

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="Only this schema (default: every controller).")

    def handle(self, *args, schema=None, **options):
        tenants = (
            get_tenant_model().objects.exclude(schema_name="public").exclude(status="destroyed")
        )
        schemas = [schema] if schema else list(tenants.values_list("schema_name", flat=True))
        current = current_master_key_id()
        for name in schemas:
            with schema_context(name), transaction.atomic():
                changed = tenant_key_rewrap()
                if changed:
                    audit_entry_create(
                        action=Action.UPDATE,
                        actor_label="system",
                        detail={
                            "event": "tenant_key_rewrapped",
                            "from": changed[0],
                            "to": changed[1],
                        },
                    )
            self.stdout.write(
                f"{name}: {'re-wrapped ' + changed[0] + ' -> ' + changed[1] if changed else 'already under ' + current}"
            )
