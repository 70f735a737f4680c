"""API credentials: per-controller tokens (stored hashed), scopes and a rate limit per token."""

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions, throttling

from audit.models import Action
from audit.services import audit_entry_create
from subjects.models import ApiToken

TOKEN_INVALID = _("Invalid or revoked API token.")
TOKEN_READ_ONLY = _("This API token may only read.")
TOKEN_PREFIX = "kvkk"  # noqa: S105 (a label, not a secret)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, name: str, scope: str, created_by: Any) -> tuple[ApiToken, str]:
    """Issue a token; the plain value is returned once and never stored."""
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        name=name, prefix=prefix, token_hash=hash_token(raw), scope=scope, created_by=created_by
    )
    token.full_clean()
    token.save()
    audit_entry_create(
        action=Action.PERMISSION_CHANGE,
        actor=created_by,
        target=token,
        detail={"event": "api_token_created", "scope": scope},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, revoked_by: Any) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_entry_create(
            action=Action.PERMISSION_CHANGE,
            actor=revoked_by,
            target=token,
            detail={"event": "api_token_revoked"},
        )
    return token


@dataclass(frozen=True)
class ApiClient:
    """The controller system behind a token, standing in for a user in DRF."""

    token: ApiToken
    is_authenticated: bool = True
    is_active: bool = True
    pk: None = None

    @property
    def label(self) -> str:
        return f"api:{self.token.name} ({self.token.prefix})"

    def get_username(self) -> str:
        return self.label


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("Token", "Bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(TOKEN_INVALID)
        token = ApiToken.objects.filter(
            token_hash=hash_token(header[1]), revoked_at__isnull=True
        ).first()
        if token is None:
            raise exceptions.AuthenticationFailed(TOKEN_INVALID)
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return ApiClient(token), token

    def authenticate_header(self, request) -> str:
        return 'Token realm="api"'


class HasTokenScope(permissions.BasePermission):
    """Any active token may read; writing needs a write-scoped token.

    A view that only reads although it is posted to (identifiers travel in bodies,
    never in URLs) says so with ``reads_only = True``.
    """

    message = TOKEN_READ_ONLY

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, ApiToken):
            return False
        reads = request.method in permissions.SAFE_METHODS or getattr(view, "reads_only", False)
        return reads or request.auth.scope == ApiToken.Scope.WRITE


class TokenRateThrottle(throttling.SimpleRateThrottle):
    """Requests per token; the cache key carries the schema, so tenants never share counters."""

    scope = "token"

    def get_cache_key(self, request, view):
        return f"throttle_token_{request.auth.pk}" if isinstance(request.auth, ApiToken) else None
