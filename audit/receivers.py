"""Log-ins, log-outs and failed log-ins enter the processing log.

These are the only signal receivers in the project: Django raises these
events from inside its auth machinery (the portal, the admin, the API), and a
receiver is the one place that sees all of them.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.models import Action
from audit.services import audit_entry_create


@receiver(user_logged_in, dispatch_uid="audit_login")
def _logged_in(sender, request, user, **kwargs):
    audit_entry_create(action=Action.LOGIN, actor=user, target=user, request=request)


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
