"""`scripts/dev.py` runs a command against the portal `make run` is running, embedded stores too."""

import importlib.util
import os
import subprocess

import pytest
from django.db import connection
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from accounts.models import User
from tests.conftest import ROOT, in_thread

_spec = importlib.util.spec_from_file_location("dev", ROOT / "scripts" / "dev.py")
dev = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dev)


@pytest.fixture
def env_file(tmp_path, monkeypatch):
    path = tmp_path / "portal.env"
    monkeypatch.setattr(dev, "PORTAL_ENV_FILE", path)
    return path


def _run_dev(monkeypatch, *args: str) -> int:
    monkeypatch.setattr("sys.argv", ["dev.py", *args])
    return dev.main()


def test_the_running_portals_environment_is_recorded_without_passwords(env_file):
    dev.portal_env_write(
        {
            "PORTAL_ENV": "development",
            "POSTGRES_HOST": "/project/.run/pgdata",
            "POSTGRES_PORT": "5432",
            "POSTGRES_PASSWORD": "s3cret",
            "REDIS_URL": "unix:///project/.run/redis.sock?db=0",
            "HOME": "/root",
        }
    )
    assert dev.portal_env_read() == {
        "PORTAL_ENV": "development",
        "POSTGRES_HOST": "/project/.run/pgdata",
        "POSTGRES_PORT": "5432",
        "REDIS_URL": "unix:///project/.run/redis.sock?db=0",
    }
    assert "s3cret" not in env_file.read_text()


def test_without_a_running_portal_it_says_to_start_one(env_file, monkeypatch):
    with pytest.raises(SystemExit) as stop:
        _run_dev(monkeypatch, "totp_code", "acme", "admin")
    assert "start it with `make run`" in str(stop.value.code)


def test_a_portal_that_has_stopped_is_not_mistaken_for_a_running_one(env_file, monkeypatch):
    dev.portal_env_write({"PORTAL_ENV": "development"})
    finished = subprocess.Popen(["true"])
    finished.wait()
    env_file.write_text(env_file.read_text().replace(str(os.getpid()), str(finished.pid)))
    with pytest.raises(SystemExit) as stop:
        _run_dev(monkeypatch, "totp_code", "acme", "admin")
    assert "has stopped" in str(stop.value.code)


def test_totp_code_reaches_the_portals_database_through_the_recorded_environment(
    env_file, monkeypatch, capfd, committed_tenant, db
):
    # given: a controller with a demo authenticator, committed where the portal's database is
    tenant = committed_tenant("devscript")

    def enrol() -> TOTPDevice:
        with schema_context(tenant.schema_name):
            user = User.objects.get(username="firstadmin")
            return TOTPDevice.objects.create(user=user, name="demo", confirmed=True)

    device = in_thread(enrol)
    # and a shell whose own environment points elsewhere
    monkeypatch.setenv("POSTGRES_PORT", "1")
    monkeypatch.setenv("POSTGRES_HOST", "127.0.0.1")
    dev.portal_env_write(
        {
            "PORTAL_ENV": "test",
            "DJANGO_SETTINGS_MODULE": "config.test_settings",
            "POSTGRES_HOST": connection.settings_dict["HOST"],
            "POSTGRES_PORT": str(connection.settings_dict["PORT"]),
            "POSTGRES_DB": connection.settings_dict["NAME"],
        }
    )

    # when
    status = _run_dev(monkeypatch, "totp_code", tenant.schema_name, "firstadmin")

    # then
    code = capfd.readouterr().out.strip()
    assert status == 0
    assert TOTP(device.bin_key).verify(int(code), tolerance=1), code
