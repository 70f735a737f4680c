"""Fixtures: two controllers (acme, globex) with staff of every role, committed once per run.

Personas, as in every view test: the owner (acme's controller admin), a
colleague (acme's request officer, read-write but not admin), the auditor
(acme's read-only DPO) and the outsider (globex's controller admin).

The test databases are created, migrated and seeded as the owner role; every
test then runs as the runtime role, as web and workers do. `in_thread` runs
code on a connection of its own (committed, as another role if asked), for
races between connections and for what only the owner or a superuser may do.
"""

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context, tenant_context

from accounts import lockout
from accounts.models import Role, User
from audit.models import Action
from audit.services import audit_entry_create
from tenants.models import Tenant
from tenants.services import platform_ensure, tenant_provision
from tests.factories import staff_create

ROOT = Path(__file__).resolve().parent.parent
(ROOT / ".run").mkdir(exist_ok=True)

TENANT_SPECS = {
    "acme": {"legal_name": "Acme Perakende A.Ş.", "vkn": "0010011238"},
    "globex": {"legal_name": "Globex Sigorta A.Ş.", "vkn": "4870091234"},
}
STAFF = {
    "acme": [
        ("owner", Role.CONTROLLER_ADMIN),
        ("colleague", Role.REQUEST_OFFICER),
        ("auditor", Role.AUDITOR),
        ("browser", Role.REQUEST_OFFICER),  # the browser test's own user: its log-ins are committed
    ],
    "globex": [("outsider", Role.CONTROLLER_ADMIN)],
}


DATABASES = ("default", "keys")
SUPERUSER = os.environ.get("POSTGRES_SUPERUSER", "postgres")


def _credentials(role: str) -> dict[str, str]:
    if role == "superuser":
        return {"USER": SUPERUSER, "PASSWORD": ""}
    return settings.DB_CREDENTIALS[role]


def _use_role(role: str) -> None:
    """Connect this thread's default and key connections as ``role`` from now on."""
    for alias in DATABASES:
        connections[alias].close()
        connections[alias].settings_dict.update(_credentials(role))


def pytest_collection_modifyitems(items):
    """Every database test may use both databases (the key database is part of every write,
    and of every portal request: the destruction ledger's check). Tests that choose their
    fixtures at run time (request.getfixturevalue) count as database tests too."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        uses_db = "db" in item.fixturenames or "request" in item.fixturenames
        if marker is None and not uses_db:
            continue
        if marker is not None and "databases" in marker.kwargs:
            continue
        kwargs = dict(marker.kwargs) if marker is not None else {}
        item.add_marker(pytest.mark.django_db(databases=list(DATABASES), **kwargs), append=False)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """The test databases are created and migrated by the owner role."""
    _use_role("owner")


def in_thread(function, *args, role: str = "runtime", **kwargs):
    """Run ``function`` on connections of its own (autocommit, as ``role``) and return its result.

    Writes are committed and outlive the test: use schemas and identifiers of the test's own.
    """
    outcome: dict = {}

    def run():
        for alias in DATABASES:
            config = {**connections.settings[alias], **_credentials(role)}
            connections[alias] = connections[alias].__class__(config, alias)
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as exc:  # re-raised in the calling thread
            outcome["error"] = exc
        finally:
            for alias in DATABASES:
                connections[alias].close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Provision the two controllers once; every test then runs in a rolled-back transaction."""
    # pytest-django creates the test database only when a selected test asks for `db`;
    # never let the fixtures write into a real database.
    assert connection.settings_dict["NAME"].startswith("test_"), "test database not set up"
    # Checkpoints of an earlier run's database would not match this one's chains.
    settings.AUDIT_CHECKPOINT_LOG.unlink(missing_ok=True)
    with django_db_blocker.unblock():
        _seed()
        _use_role("runtime")
    yield
    with django_db_blocker.unblock():
        _use_role("owner")  # the owner drops the test databases


def _seed() -> None:
    # Files of earlier runs would look like another run's leftovers to the attachment sweep.
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
    platform_ensure()
    with schema_context("public"):
        staff_create(schema="public", username="root", role="")
        User.objects.filter(username="root").update(is_staff=True, is_superuser=True)
    for slug, spec in TENANT_SPECS.items():
        result = tenant_provision(
            slug=slug, admin_username="firstadmin", admin_email=f"first@{slug}.com.tr", **spec
        )
        with tenant_context(result.tenant):
            for username, role in STAFF[slug]:
                user = staff_create(schema=slug, username=username, role=role)
                audit_entry_create(action=Action.CREATE, target=user, detail={"event": "fixture"})


@pytest.fixture
def committed_tenant(db):
    """Provision a controller of the test's own, committed (as provisioning is, by the owner)."""

    def provision(slug: str) -> Tenant:
        return in_thread(
            lambda: (
                tenant_provision(
                    slug=slug,
                    legal_name=f"Deneme {slug} A.Ş.",
                    vkn="0010011238",
                    admin_username="firstadmin",
                    admin_email=f"first@{slug}.com.tr",
                ).tenant
            ),
            role="owner",
        )

    return provision


@pytest.fixture(autouse=True)
def _back_to_public():
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _forget_failed_logins_per_address():
    """The per-address failure counters live in Redis, which no test's rollback undoes."""
    yield
    cache_config = settings.CACHES["default"]
    pattern = f"*:{cache_config['KEY_PREFIX']}:*:" + lockout.CACHE_KEY.format(address="*")
    with redis.Redis.from_url(cache_config["LOCATION"]) as client:
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture
def sent_tasks(monkeypatch) -> list[tuple[str, dict]]:
    """Tasks queued through the Celery app (name, kwargs), instead of reaching a broker."""
    from config.celery import app

    queued: list[tuple[str, dict]] = []
    monkeypatch.setattr(
        app, "send_task", lambda name, kwargs=None, **options: queued.append((name, kwargs))
    )
    return queued


@pytest.fixture
def acme(db) -> Tenant:
    return Tenant.objects.get(schema_name="acme")


@pytest.fixture
def globex(db) -> Tenant:
    return Tenant.objects.get(schema_name="globex")


def portal_client(tenant: Tenant | None, username: str, *, verified: bool = True) -> Client:
    """A browser logged in on the tenant's host (public host if tenant is None)."""
    schema = tenant.schema_name if tenant else "public"
    host = tenant.host if tenant else "localhost"
    client = Client(HTTP_HOST=host)
    with schema_context(schema):
        user = User.objects.get(username=username)
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        if verified:
            session = client.session
            session["otp_device_id"] = TOTPDevice.objects.get(user=user).persistent_id
            session.save()
    connection.set_schema_to_public()
    return client


@pytest.fixture
def owner(acme):
    return portal_client(acme, "owner")


@pytest.fixture
def colleague(acme):
    return portal_client(acme, "colleague")


@pytest.fixture
def auditor(acme):
    return portal_client(acme, "auditor")


@pytest.fixture
def outsider(globex):
    return portal_client(globex, "outsider")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env() -> dict[str, str]:
    """Environment for a child process (worker, web server) that uses the test database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "POSTGRES_DB": connection.settings_dict["NAME"],
        "PYTHONPATH": str(ROOT),
    }


def _start_worker(*, queue: str, name: str, env: dict[str, str]) -> subprocess.Popen:
    """A real Celery worker process on ``queue``, using the test database; waits until it answers."""
    from config.celery import app

    log_path = ROOT / ".run" / f"test-{name}.log"
    log = open(log_path, "w")  # noqa: SIM115 (the process writes to it until teardown)
    node = f"test-{name}-{os.getpid()}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{node}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Celery worker died: {log_path.read_text()}")
        if app.control.ping(destination=[f"{node}@{socket.gethostname()}"], timeout=1):
            return process
    process.kill()
    raise RuntimeError("Celery worker did not answer within 60 s")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="session")
def celery_worker(django_db_setup):
    """A real Celery worker process on the test queue, connected as the runtime role."""
    from config.celery import app

    app.control.purge()
    process = _start_worker(queue=os.environ["CELERY_QUEUE"], name="worker", env=service_env())
    yield process
    _stop(process)


@pytest.fixture(scope="session")
def provisioning_worker(django_db_setup):
    """The provisioning worker: the one process that connects as the owner role."""
    process = _start_worker(
        queue=settings.CELERY_PROVISIONING_QUEUE,
        name="provisioner",
        env={**service_env(), "PORTAL_DB_ROLE": "owner"},
    )
    yield process
    _stop(process)


@pytest.fixture(scope="session")
def live_portal(django_db_setup):
    """The portal served by a real web server process on the test database; yields its port."""
    port = free_port()
    log = open(ROOT / ".run" / "test-web.log", "w")  # noqa: SIM115 (closed at teardown)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=service_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((ROOT / ".run" / "test-web.log").read_text())
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    yield port
    process.terminate()
    process.wait(timeout=30)
    log.close()
