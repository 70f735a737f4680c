"""The client's address, the one lockout, rate limits and the processing log all record.

Behind reverse proxies (settings.TRUSTED_PROXY_COUNT of them, each appending to
X-Forwarded-For) REMOTE_ADDR is the nearest proxy's address: counting every
client as that one address would lock everybody out at once. The address the
outermost trusted proxy saw is the last-but-N entry of X-Forwarded-For; entries
left of it come from the client and are never trusted.
"""

from ipaddress import ip_address

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote  # not through the proxies we expect: the connection's own address
    candidate = forwarded[-proxies]
    try:
        return str(ip_address(candidate))
    except ValueError:
        return remote
