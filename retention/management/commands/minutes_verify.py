import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_tenant_model, schema_context

from retention import minutes_chain
from retention.minutes import minutes_chain_verify


class Command(BaseCommand):
    help = (
        "Verify the destruction minutes (imha tutanakları): in one schema (--schema) or in "
        "every controller's, walk the chain in seq order, recompute each entry_hash from its "
        "body, check each prev_hash and each Ed25519 signature against the platform's key, and "
        "report the first broken seq and why. With --file and --public-key, verify a downloaded "
        "JSON (one record or a list) with the public key alone, without the database. Exits "
        "non-zero on any failure."
    )

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="Verify only this schema (default: every controller).")
        parser.add_argument("--file", help="A downloaded minutes JSON to verify offline.")
        parser.add_argument(
            "--public-key",
            help="The platform's public key (PEM, as published at /audit/signing-key.pem).",
        )

    def handle(self, *args, schema=None, file=None, public_key=None, **options):
        if file or public_key:
            if not (file and public_key):
                raise CommandError("--file and --public-key go together.")
            if schema:
                raise CommandError("--schema verifies the database; --file a download. Not both.")
            return self._verify_file(Path(file), Path(public_key))
        broken = []
        for name in self._schemas(schema):
            with schema_context(name):
                report = minutes_chain_verify()
            if report.ok:
                span = f" (#{report.first_seq}–#{report.last_seq})" if report.records else ""
                purged = (
                    f", purged through #{report.purge.purged_through_seq}" if report.purge else ""
                )
                self.stdout.write(f"{name}: OK, {report.records} minutes{span}{purged}")
            else:
                broken.append(name)
                self.stdout.write(
                    f"{name}: BROKEN at minutes #{report.broken_seq}: {report.reason} "
                    f"({report.records} intact before it)"
                )
        if broken:
            raise CommandError(f"Destruction minutes broken in: {', '.join(broken)}")

    def _schemas(self, schema: str | None) -> list[str]:
        if schema:
            return [schema]
        tenants = get_tenant_model().objects.exclude(schema_name="public").order_by("schema_name")
        return list(tenants.values_list("schema_name", flat=True))

    def _verify_file(self, file: Path, key_file: Path) -> None:
        try:
            key = minutes_chain.public_key_load(key_file.read_bytes())
            records = minutes_chain.records_of(json.loads(file.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read the file or the key: {exc}") from exc
        result = minutes_chain.chain_check(records, public_key=key, start=None)
        if not result.ok:
            raise CommandError(
                f"{file.name}: BROKEN at minutes #{result.broken_seq}: {result.reason}"
            )
        first = min(records, key=lambda record: record["seq"]) if records else None
        link = f", the first chained to {first['prev_hash'][:16]}…" if first else ""
        self.stdout.write(
            f"{file.name}: OK, {result.records} minutes (#{result.first_seq}–#{result.last_seq})"
            f" signed by key {minutes_chain.key_id_of(key)}{link}"
        )
