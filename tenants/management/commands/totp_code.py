from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.management.development import refuse_in_production


class Command(BaseCommand):
    help = (
        "Print the current authenticator code of a demo user (development only). "
        "With `make run` running: .venv/bin/python scripts/dev.py totp_code acme admin"
    )

    def add_arguments(self, parser):
        parser.add_argument("schema", help="Schema of the user: public, acme, kalkan, ...")
        parser.add_argument("username")

    def handle(self, *args, schema, username, **options):
        refuse_in_production("totp_code")
        # Imported only now: the demo module needs Faker, which production does not install.
        from tenants.demo import current_code

        try:
            self.stdout.write(current_code(schema=schema, username=username))
        except TOTPDevice.DoesNotExist as exc:
            raise CommandError(
                f"No demo authenticator for {username!r} in schema {schema!r}."
            ) from exc
