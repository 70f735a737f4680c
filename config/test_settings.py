"""Settings for the test suite: the same settings, pointed at test stores."""

import os

os.environ.setdefault("PORTAL_ENV", "test")
# A Redis database of its own, so tests never see a running portal's queue or cache.
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CELERY_QUEUE", "portal-test")
os.environ.setdefault("CACHE_KEY_PREFIX", "kvkk-test")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["localhost", ".localhost", "testserver"]
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
MEDIA_ROOT = BASE_DIR / ".run" / "test-media"  # noqa: F405
# A log of the test run's own: tests/conftest.py starts it afresh with each new test database.
AUDIT_CHECKPOINT_LOG = BASE_DIR / ".run" / "test-audit-checkpoints.jsonl"  # noqa: F405
