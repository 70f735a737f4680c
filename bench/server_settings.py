"""Settings of the web server the applications benchmark measures: the portal's own, with
the bench's URLs (the portal's plus a trivial view, the baseline of the same server)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
