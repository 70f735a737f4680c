"""`migrate` for both databases: schemas of the data database, plain tables of the key database.

django-tenants replaces `migrate` with `migrate_schemas`, which only knows
tenant-aware connections. The key database is a plain PostgreSQL database, so
`migrate --database keys` (and the test runner, which migrates every alias)
is handed to Django's own command. `tenants` is listed before `django_tenants`
in INSTALLED_APPS so that this command is the one Django finds.
"""

from django.core.management import call_command
from django.core.management.commands.migrate import Command as DjangoMigrateCommand
from django.db import connections
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper

_DJANGO_OPTIONS = (
    "app_label",
    "migration_name",
    "verbosity",
    "interactive",
    "fake",
    "fake_initial",
    "plan",
    "run_syncdb",
    "check_unapplied",
    "prune",
)


class Command(MigrateSchemasCommand):
    def handle(self, *args, **options):
        database = options["database"]
        if isinstance(connections[database], TenantDatabaseWrapper):
            return super().handle(*args, **options)
        forwarded = {
            name: options[name] for name in _DJANGO_OPTIONS if options.get(name) is not None
        }
        call_command(DjangoMigrateCommand(), database=database, skip_checks=True, **forwarded)
