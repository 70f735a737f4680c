"""`migrate_schemas` is our `migrate` (migrate.py): it skips destroyed controllers."""

from tenants.management.commands.migrate import Command

__all__ = ["Command"]
