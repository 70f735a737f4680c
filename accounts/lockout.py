"""The per-address limit on failed log-ins, beside django-axes' per-name-and-address lockout.

django-axes locks a user name at one address (settings.AXES_LOCKOUT_PARAMETERS), so
failures elsewhere never lock its owner out. That alone would let one address try a few
passwords for every user name; this counter caps the failures of one address across all
names. It lives in the cache, whose keys carry the schema (django_tenants.cache.make_key),
so it counts per controller, and it counts in fixed windows of LOGIN_ADDRESS_WINDOW.
"""

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

CACHE_KEY = "accounts:login-failures:{address}"


def _key(request: HttpRequest) -> str:
    # The same address django-axes and its settings (AXES_IPWARE_*) resolve.
    return CACHE_KEY.format(address=get_client_ip_address(request) or "unknown")


def address_is_blocked(*, request: HttpRequest) -> bool:
    """Whether this address has used up its failed log-ins for the current window."""
    return cache.get(_key(request), 0) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT


def address_failure_record(*, request: HttpRequest) -> int:
    """Count one failed log-in from this address; returns the count in the window."""
    key = _key(request)
    # add() starts the window (with its expiry) only if none is running; incr() keeps the expiry.
    cache.add(key, 0, timeout=int(settings.LOGIN_ADDRESS_WINDOW.total_seconds()))
    try:
        return cache.incr(key)
    except ValueError:  # the window expired between add() and incr(): start a new one
        cache.set(key, 1, timeout=int(settings.LOGIN_ADDRESS_WINDOW.total_seconds()))
        return 1
