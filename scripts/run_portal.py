"""`make run`: the portal with demo data — web server, Celery workers and beat.

Finds PostgreSQL and Redis on their default local ports or starts embedded ones,
migrates every schema, seeds the demo (idempotent), starts the processes in
development mode (PORTAL_ENV=development) and prints where to go and how to log in.
While it runs, the portal's environment is in .run/portal.env for scripts/dev.py.
Ctrl+C stops everything.
"""

import os
import signal
import subprocess
import sys
import time

from dev import PORTAL_ENV_FILE, portal_env_write
from stores import ROOT, RUN_DIR, ensure_database, stores_env

PORT = os.environ.get("PORT", "8000")
PY = sys.executable
DEV = ".venv/bin/python scripts/dev.py"
MAIL_DIR = RUN_DIR / "mail"  # a Maildir: one file per message under new/


def main() -> int:
    env = {
        **os.environ,
        **stores_env(redis_db=0),
        "PORTAL_ENV": "development",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PORTAL_PUBLIC_PORT": PORT,
        "PYTHONUNBUFFERED": "1",
    }
    # Every e-mail the portal sends goes to a local SMTP sink that keeps it in a Maildir.
    env.setdefault("EMAIL_HOST", "127.0.0.1")
    env.setdefault("EMAIL_PORT", "1025")
    env.setdefault("POSTGRES_DB", "kvkk")
    ensure_database(env, env["POSTGRES_DB"])
    ensure_database(env, f"{env['POSTGRES_DB']}_keys")
    # Migrations and provisioning run as the owner role; web and workers as the runtime role.
    owner_env = {**env, "PORTAL_DB_ROLE": "owner"}

    def manage(*args: str) -> None:
        subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=owner_env, check=True)

    manage("migrate", "--database", "keys", "--verbosity", "0")
    manage("migrate_schemas", "--verbosity", "0")
    manage("seed_demo")

    logs = RUN_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    def celery(program: str, *options: str) -> list[str]:
        return [PY, "-m", "celery", "-A", "config", program, "-l", "INFO", *options]

    commands = {
        "web": [PY, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"],
        "worker": celery("worker", "--concurrency", "2"),
        # The only process that connects as the owner role: it provisions new controllers.
        "provisioner": celery(
            "worker",
            "--concurrency",
            "1",
            "-Q",
            env.get(
                "CELERY_PROVISIONING_QUEUE", f"{env.get('CELERY_QUEUE', 'portal')}-provisioning"
            ),
            "-n",
            "provisioner@%h",
        ),
        "beat": celery("beat", "-s", str(RUN_DIR / "celerybeat-schedule")),
        "mail": [
            PY,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"{env['EMAIL_HOST']}:{env['EMAIL_PORT']}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(MAIL_DIR),
        ],
    }
    portal_env_write(env)
    processes = {}
    for name, command in commands.items():
        log = open(logs / f"{name}.log", "a")  # noqa: SIM115 (lives as long as the process)
        processes[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env=owner_env if name == "provisioner" else env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    print(
        f"\nPortal running (logs in .run/logs/, its environment in .run/portal.env):\n"
        f"  platform admin  http://localhost:{PORT}/admin/\n"
        f"  controller 1    http://acme.localhost:{PORT}/\n"
        f"  controller 2    http://kalkan.localhost:{PORT}/\n"
        f"Log in with a user name and the password above, then the authenticator code:\n"
        f"  {DEV} totp_code acme admin        (a controller's admin)\n"
        f"  {DEV} totp_code public platform   (the platform admin)\n"
        f"E-mail the portal sends (backlog alerts, notices) is kept, one file per message, in\n"
        f"  .run/mail/new/\n"
        f"Ctrl+C stops everything.\n",
        flush=True,
    )

    stopping = False

    def stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                print(
                    f"{name} exited with {process.returncode}; see .run/logs/{name}.log", flush=True
                )
                stopping = True
        time.sleep(0.5)
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    for process in processes.values():
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    PORTAL_ENV_FILE.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
