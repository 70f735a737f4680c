"""Run a manage.py command against the portal that `make run` is running.

    .venv/bin/python scripts/dev.py totp_code acme admin

`make run` writes the environment of the running portal (PORTAL_ENV=development, the
database host, port and names, the Redis URLs, queue and cache names) to .run/portal.env
and removes it when it stops. This script reads it, so a command reaches the same
PostgreSQL and Redis as the portal, embedded ones included. Nothing else reads that file:
settings never do, so a production process never picks it up.
"""

import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORTAL_ENV_FILE = ROOT / ".run" / "portal.env"

# What a command needs to reach the running portal's stores; never a password.
_NAMES = (
    "PORTAL_ENV",
    "DJANGO_SETTINGS_MODULE",
    "POSTGRES_HOST",
    "POSTGRES_PORT",
    "POSTGRES_DB",
    "POSTGRES_KEYS_DB",
    "POSTGRES_USER",
    "POSTGRES_OWNER_USER",
    "REDIS_URL",
    "CACHE_URL",
    "CACHE_KEY_PREFIX",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "CELERY_QUEUE",
    "CELERY_PROVISIONING_QUEUE",
    "PORTAL_BASE_DOMAIN",
    "PORTAL_PUBLIC_PORT",
)
_PID = "PORTAL_RUN_PID"


def portal_env_write(env: dict[str, str]) -> None:
    """Record the running portal's environment (called by scripts/run_portal.py)."""
    lines = [f"{name}={shlex.quote(env[name])}" for name in _NAMES if name in env]
    lines.append(f"{_PID}={os.getpid()}")
    PORTAL_ENV_FILE.parent.mkdir(exist_ok=True)
    PORTAL_ENV_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")


def portal_env_read() -> dict[str, str]:
    """The running portal's environment; exits with a hint when no portal is running."""
    if not PORTAL_ENV_FILE.exists():
        sys.exit("No portal is running: start it with `make run` (in another terminal).")
    values = {}
    for line in PORTAL_ENV_FILE.read_text(encoding="utf-8").splitlines():
        name, _, value = line.partition("=")
        values[name] = shlex.split(value)[0] if value else ""
    try:
        os.kill(int(values.pop(_PID)), 0)
    except (KeyError, ValueError, ProcessLookupError):
        sys.exit(
            "The portal that wrote .run/portal.env has stopped: start it with `make run` "
            "(in another terminal)."
        )
    except PermissionError:
        pass  # alive, but another user's process
    return values


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    env = {**os.environ, **portal_env_read()}
    return subprocess.call([sys.executable, "manage.py", *sys.argv[1:]], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
