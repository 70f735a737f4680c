"""Fixtures: two controllers (acme, globex) with staff of every role, committed once per run.

Personas, as in every view test: the owner (acme's controller admin), a
colleague (acme's request officer, read-write but not admin), the auditor
(acme's read-only DPO) and the outsider (globex's controller admin).
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context, tenant_context

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


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Provision the two controllers once; every test then runs in a rolled-back transaction."""
    # pytest-django creates the test database only when a selected test asks for `db`;
    # never let the fixtures write into a real database.
    assert connection.settings_dict["NAME"].startswith("test_"), "test database not set up"
    with django_db_blocker.unblock():
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
                    audit_entry_create(
                        action=Action.CREATE, target=user, detail={"event": "fixture"}
                    )


@pytest.fixture(autouse=True)
def _back_to_public():
    yield
    connection.set_schema_to_public()


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


@pytest.fixture(scope="session")
def celery_worker(django_db_setup):
    """A real Celery worker process on the test queue, using the test database."""
    from config.celery import app

    app.control.purge()
    log = open(ROOT / ".run" / "test-worker.log", "w")  # noqa: SIM115 (closed at teardown)
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
            os.environ["CELERY_QUEUE"],
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=service_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"Celery worker died: {(ROOT / '.run' / 'test-worker.log').read_text()}"
            )
        if app.control.ping(destination=[f"test-{os.getpid()}@{socket.gethostname()}"], timeout=1):
            break
    else:
        process.kill()
        raise RuntimeError("Celery worker did not answer within 60 s")
    yield process
    process.terminate()
    process.wait(timeout=30)
    log.close()


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
