"""Who may open which page.

Every portal view is wrapped in ``role_required``: an anonymous visitor is sent
to log in, a member without one of the named roles gets 403. Objects of
another tenant never reach a view at all: they live in another schema.
"""

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpRequest

from accounts.models import Role

ANY_ROLE = tuple(Role)
# Roles that may read the processing log (işleme kayıtları).
AUDIT_READERS = (Role.CONTROLLER_ADMIN, Role.AUDITOR)
# Roles that may change data; auditors are read-only.
WRITERS = (Role.CONTROLLER_ADMIN, Role.REQUEST_OFFICER)


def otp_exempt(view: Callable) -> Callable:
    """Marks a view reachable without a verified second factor (log-in, enrolment)."""
    view.otp_exempt = True
    return view


def user_has_role(user, roles) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in roles)


def role_required(*roles: Role) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not user_has_role(request.user, roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


def platform_staff_required(view: Callable) -> Callable:
    """Platform admins' own pages outside the Django admin (public host only).

    On a controller's host the page does not exist (404); on the platform host
    anyone but an active staff user gets 403. Log-in and OTP are the
    middleware's job, as for every view.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if connection.schema_name != "public":
            raise Http404
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped
