"""Password steps, log-outs and failed log-ins enter the processing log; migrations end with grants.

These are the only signal receivers in the project: Django raises these
events from inside its auth machinery (the portal, the admin, the API) and
after every migration of every schema, and a receiver is the one place that
sees all of them.
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import connections
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from audit.models import Action, AuditEntry, ChainLink, Checkpoint
from audit.services import audit_entry_create
from config.db_roles import grant_runtime_privileges

# Tables the runtime role may only append to and read.
APPEND_ONLY_TABLES = (
    AuditEntry._meta.db_table,
    ChainLink._meta.db_table,
    Checkpoint._meta.db_table,  # public schema only
)


@receiver(post_migrate, dispatch_uid="audit_runtime_grants")
def _grant_runtime_privileges(sender, using, **kwargs):
    """After each migration (each schema, each database), grant the runtime role its rights."""
    if sender.label != "audit":  # post_migrate is sent once per app; grant once per run
        return
    with connections[using].cursor() as cursor:
        grant_runtime_privileges(
            cursor=cursor, runtime=settings.DB_RUNTIME_USER, append_only=APPEND_ONLY_TABLES
        )


@receiver(user_logged_in, dispatch_uid="audit_login")
def _password_accepted(sender, request, user, **kwargs):
    """Django's log-in is only the password step; the log-in itself (Action.LOGIN) is written
    once the second factor is verified (accounts.second_factor)."""
    audit_entry_create(action=Action.PASSWORD_ACCEPTED, actor=user, target=user, request=request)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_entry_create(action=Action.LOGOUT, actor=user, target=user, request=request)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    audit_entry_create(
        action=Action.LOGIN_FAILED,
        actor_label=username or "anonymous",
        detail={"username": username},
        request=request,
    )
