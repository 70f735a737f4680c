"""`migrate` for both databases: schemas of the data database, plain tables of the key database.

django-tenants replaces `migrate` with `migrate_schemas`, which only knows
tenant-aware connections. The key database is a plain PostgreSQL database, so
`migrate --database keys` (and the test runner, which migrates every alias)
is handed to Django's own command. `tenants` is listed before `django_tenants`
in INSTALLED_APPS so that this command is the one Django finds (and, through
migrate_schemas.py next to it, for `migrate_schemas` too).

A destroyed controller keeps its row (its certificate refers to it) but its schema
is gone: migrating every schema skips it instead of failing on it.
"""

from django.core.management import call_command
from django.core.management.commands.migrate import Command as DjangoMigrateCommand
from django.db import connections
from django_tenants.management.commands import SyncCommon
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
from django_tenants.migration_executors import get_executor
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
            SyncCommon.handle(self, *args, **options)  # reads the options into attributes
            if self.schema_name or not self.sync_tenant:
                return super().handle(*args, **options)
            return self._migrate_every_schema()
        forwarded = {
            name: options[name] for name in _DJANGO_OPTIONS if options.get(name) is not None
        }
        call_command(DjangoMigrateCommand(), database=database, skip_checks=True, **forwarded)

    def _migrate_every_schema(self) -> None:
        """The public schema (unless --tenant), then every controller not destroyed."""
        from tenants.models import Tenant  # commands are imported before the app registry

        executor = get_executor(codename=self.executor)(self.args, self.options)
        if self.sync_public:
            executor.run_migrations(tenants=["public"])
        schemas = (
            Tenant.objects.exclude(schema_name="public")
            .exclude(status=Tenant.Status.DESTROYED)
            .values_list("schema_name", flat=True)
        )
        executor.run_migrations(tenants=list(schemas))
