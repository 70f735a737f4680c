"""Commands that exist for development machines only (demo data, demo authenticator codes)."""

from django.conf import settings
from django.core.management.base import CommandError


def refuse_in_production(command: str) -> None:
    """Stop a demo command before it touches anything, or imports the demo (and Faker).

    The demo creates users with a published password and authenticator keys anyone can
    derive, and Faker is a development dependency that production does not install.
    """
    if settings.PRODUCTION:
        raise CommandError(
            f"{command} is for development machines only and refuses to run in production "
            f"(PORTAL_ENV={settings.PORTAL_ENV}). Set PORTAL_ENV=development on a development "
            "machine, or use `make run`, which does."
        )
