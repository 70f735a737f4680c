"""Rate limits of the public application pages: per client address and per identifier.

Counted in the cache (Redis), whose keys carry the schema, so each controller counts its
own. A key is a hash of what it counts (an address, a blind index, a reference): the
cache never holds an identifier in clear.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from config.errors import PortalError

CACHE_PREFIX = "intake-throttle"
TOO_MANY = _("Too many attempts from your connection or for this person. Please try again later.")
RESEND_TOO_SOON = _(
    "A code was sent a moment ago. Please wait a minute before asking for another one."
)
RESEND_TOO_MANY = _("Too many codes were asked for. Please try again in an hour.")


def _key(scope: str, value: str | bytes | memoryview) -> str:
    raw = bytes(value) if isinstance(value, bytes | memoryview) else value.encode()
    return f"{CACHE_PREFIX}:{scope}:{hashlib.sha256(raw).hexdigest()[:40]}"


def hit(scope: str, value: str | bytes | memoryview, *, limit: int, seconds: int) -> bool:
    """Count one event; True when it is over ``limit`` within the window of ``seconds``."""
    key = _key(scope, value)
    cache.add(key, 0, seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.add(key, 1, seconds)
        count = 1
    return count > limit


def limit(
    scope: str, value: str | bytes | memoryview | None, *, per_hour: int, message=TOO_MANY
) -> None:
    """Refuse (429) once ``value`` passed ``per_hour`` events of ``scope`` this hour."""
    if value and hit(scope, value, limit=per_hour, seconds=3600):
        raise PortalError(message, code="rate_limited", status=429)


def resend_limit(purpose: str, reference: str) -> None:
    """Codes for one reference: at most one a minute and a few an hour (known or not)."""
    if hit(f"resend-min-{purpose}", reference, limit=1, seconds=60):
        raise PortalError(RESEND_TOO_SOON, field="medium", code="rate_limited", status=429)
    if hit(f"resend-hour-{purpose}", reference, limit=settings.INTAKE_CODES_PER_HOUR, seconds=3600):
        raise PortalError(RESEND_TOO_MANY, field="medium", code="rate_limited", status=429)
