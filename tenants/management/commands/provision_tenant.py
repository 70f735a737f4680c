from django.core.management.base import BaseCommand, CommandError

from config.errors import PortalError
from tenants.services import tenant_provision


class Command(BaseCommand):
    help = (
        "Provision a data controller: schema, host <slug>.<base domain> and a first admin "
        "with a one-time invitation link (printed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        parser.add_argument("--legal-name", required=True)
        parser.add_argument("--vkn", required=True, help="10-digit tax number")
        parser.add_argument("--admin-username", required=True)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--kep-address", default="")
        parser.add_argument("--mersis-no", default="")

    def handle(self, *args, **options):
        try:
            result = tenant_provision(
                slug=options["slug"],
                legal_name=options["legal_name"],
                vkn=options["vkn"],
                admin_username=options["admin_username"],
                admin_email=options["admin_email"],
                kep_address=options["kep_address"],
                mersis_no=options["mersis_no"],
            )
        except PortalError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(f"{result.tenant} provisioned in {result.seconds:.2f} s")
        )
        self.stdout.write(f"Portal:     {result.tenant.base_url}/")
        self.stdout.write(f"Invitation: {result.invitation_url}")
