from base64 import b32encode

from django.core.management.base import BaseCommand
from django.urls import reverse

from tenants.management.development import refuse_in_production


class Command(BaseCommand):
    help = (
        "Create (or refresh) the demo: the platform host, two data controllers and staff of "
        "every role with known passwords and authenticator keys. Safe to run again. "
        "Development only: it refuses to run in production."
    )

    def handle(self, *args, **options):
        refuse_in_production("seed_demo")
        # Imported only now: the demo module needs Faker, which production does not install.
        from tenants.demo import (
            DEMO_LOOKUP_EMAIL,
            DEMO_LOOKUP_TCKN,
            DEMO_PASSWORD,
            demo_api_token,
            demo_totp_key,
            seed_demo,
        )

        logins = seed_demo()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"Password for every demo user: {DEMO_PASSWORD}")
        self.stdout.write(
            "Authenticator codes: .venv/bin/python scripts/dev.py totp_code <schema> <user name>"
        )
        self.stdout.write("  (while `make run` runs; or add a key below to any authenticator app)")
        for login in logins:
            key = b32encode(bytes.fromhex(demo_totp_key(login.schema, login.username))).decode()
            self.stdout.write(
                f"  {login.url:<32} {login.username:<9} {login.role:<18} "
                f"schema={login.schema:<7} totp-key={key}"
            )
        bases = {login.schema: login.url.rstrip("/") for login in logins}
        for schema in sorted(set(bases) - {"public"}):
            self.stdout.write(f"API token of {schema}: {demo_api_token(schema)}")
        self.stdout.write("Look a subject up through the API:")
        self.stdout.write(
            f"  curl -H 'Authorization: Token {demo_api_token('acme')}' "
            "-H 'Content-Type: application/json' "
            f"""-d '{{"value": "{DEMO_LOOKUP_EMAIL}"}}' {bases["acme"]}{reverse("api:lookup")}"""
        )
        self.stdout.write(
            "File a data-subject application (no log-in; the code arrives by e-mail):"
        )
        self.stdout.write(
            f"  {bases['acme']}{reverse('intake:form')}  T.C. kimlik no {DEMO_LOOKUP_TCKN}, "
            "codes in .run/mail/new/"
        )
