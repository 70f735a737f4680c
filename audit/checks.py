"""The runtime role must not be able to rewrite the processing log (KVKK Art. 12).

Registered as a database check: `manage.py check --database default` runs it,
and in production web and workers run it before they serve (config/wsgi.py,
config/celery.py), so a deployment that connects as a superuser or as the
tables' owner refuses to start.
"""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import connections

from audit.models import AuditEntry
from config.db_roles import runtime_role_problems


@register(Tags.database)
def check_runtime_role(app_configs=None, databases=None, **kwargs) -> list[Error]:
    if not databases or "default" not in databases or settings.PORTAL_DB_ROLE != "runtime":
        return []
    with connections["default"].cursor() as cursor:
        problems = runtime_role_problems(cursor=cursor, log_table=AuditEntry._meta.db_table)
    return [
        Error(
            f"Refusing to serve: {problem}.",
            hint=(
                "Connect web and workers as a role that owns nothing (POSTGRES_USER) and run "
                "migrations and provisioning as the owner role (PORTAL_DB_ROLE=owner)."
            ),
            id="audit.E001",
        )
        for problem in problems
    ]
