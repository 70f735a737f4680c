from base64 import b32encode

from django.core.management.base import BaseCommand

from tenants.demo import DEMO_PASSWORD, demo_api_token, demo_totp_key, seed_demo


class Command(BaseCommand):
    help = (
        "Create (or refresh) the demo: the platform host, two data controllers and staff of "
        "every role with known passwords and authenticator keys. Safe to run again."
    )

    def handle(self, *args, **options):
        logins = seed_demo()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"Password for every demo user: {DEMO_PASSWORD}")
        self.stdout.write("Authenticator codes: python manage.py totp_code <schema> <username>")
        self.stdout.write("  (or add the key below to any authenticator app)")
        for schema in sorted({login.schema for login in logins} - {"public"}):
            self.stdout.write(f"  API token of {schema}: {demo_api_token(schema)}")
        for login in logins:
            self.stdout.write(
                f"  {login.url:<32} {login.username:<9} {login.role:<18} "
                f"schema={login.schema:<7} totp-key={b32encode(bytes.fromhex(demo_totp_key(login.schema, login.username))).decode()}"
            )
