from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.demo import current_code


class Command(BaseCommand):
    help = "Print the current authenticator code of a demo user (demo accounts only)."

    def add_arguments(self, parser):
        parser.add_argument("schema", help="Schema of the user: public, acme, kalkan, ...")
        parser.add_argument("username")

    def handle(self, *args, schema, username, **options):
        try:
            self.stdout.write(current_code(schema=schema, username=username))
        except TOTPDevice.DoesNotExist as exc:
            raise CommandError(
                f"No demo authenticator for {username!r} in schema {schema!r}."
            ) from exc
