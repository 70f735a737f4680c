"""What web and workers check before they serve, in production.

The database checks (audit.checks: the runtime role owns nothing and may only
append to the processing log) run when ``manage.py check --database default``
is called; a server started without that would still serve. So config/wsgi.py
and the Celery worker and beat (config/celery.py) call ``refuse_unsafe_database``
as they start: a failed check ends the process with the check's message.
"""

import django
from django.apps import apps
from django.conf import settings
from django.core import checks


def database_problems() -> list[checks.CheckMessage]:
    if not apps.ready:
        django.setup()
    found = checks.run_checks(databases=["default"], tags=[checks.Tags.database])
    return [message for message in found if message.is_serious()]


def refuse_unsafe_database() -> None:
    """In production, exit (SystemExit, non-zero) when a database check fails."""
    if not settings.PRODUCTION:
        return
    problems = database_problems()
    if problems:
        raise SystemExit(
            "Refusing to start: the database checks failed.\n"
            + "\n".join(str(problem) for problem in problems)
        )
