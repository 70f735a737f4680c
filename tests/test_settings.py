"""Production settings are the default and refuse unsafe values; the deploy check is clean."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from tests.conftest import ROOT

GOOD_SECRET = "p" * 20 + "r0duct10n-s3cr3t-" + "q" * 20
GOOD_MASTER = "k1:" + "A" * 43 + "="
# Every secret production refuses to start without, valid-looking.
PRODUCTION_SECRETS = {
    "SECRET_KEY": GOOD_SECRET,
    "PORTAL_MASTER_KEYS": GOOD_MASTER,
    "PORTAL_SIGNING_KEY": "cHJvZHVjdGlvbi10ZXN0LXNpZ25pbmcta2V5LTAwMDA=",  # 32 bytes, base64
    "ALLOWED_HOSTS": "portal.example.com.tr,.portal.example.com.tr",
}
# Settings a test names itself; whatever the suite's own environment says is dropped.
_OWN = {"DJANGO_SETTINGS_MODULE", "PORTAL_ENV", "DEBUG", *PRODUCTION_SECRETS}


def _run(*args: str, pythonpath: str = "", **env: str) -> subprocess.CompletedProcess:
    base = {
        k: v for k, v in os.environ.items() if k not in _OWN and k.removesuffix("_FILE") not in _OWN
    }
    if pythonpath:
        base["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath, base.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def without_faker(tmp_path) -> str:
    """A path on which `import faker` fails, as on a production machine (dev dependency)."""
    package = tmp_path / "faker"
    package.mkdir()
    (package / "__init__.py").write_text(
        'raise ImportError("Faker is a development dependency, not installed in production")\n'
    )
    return str(tmp_path)


def test_settings_are_production_when_no_environment_is_named():
    result = _run(
        "-c",
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.PORTAL_ENV, settings.DEBUG, settings.SESSION_COOKIE_SECURE)",
        **PRODUCTION_SECRETS,
    )
    assert result.stdout.split() == ["production", "False", "True"], result.stderr


def test_with_nothing_set_the_portal_refuses_to_start_without_a_secret_key():
    result = _run("manage.py", "check")
    assert result.returncode != 0
    assert "Production needs its own SECRET_KEY" in result.stderr
    assert "PORTAL_ENV=development" in result.stderr  # the way out on a laptop


def test_with_every_other_secret_the_portal_refuses_to_start_without_master_keys():
    others = {
        name: value for name, value in PRODUCTION_SECRETS.items() if name != "PORTAL_MASTER_KEYS"
    }
    result = _run("manage.py", "check", **others)
    assert result.returncode != 0
    assert "Production needs its own PORTAL_MASTER_KEYS" in result.stderr


def test_development_must_be_asked_for():
    result = _run(
        "-c",
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.PORTAL_ENV, settings.DEBUG)",
        PORTAL_ENV="development",
    )
    assert result.stdout.split() == ["development", "True"], result.stderr


@pytest.mark.parametrize("command", [["seed_demo"], ["totp_code", "acme", "admin"]])
def test_demo_commands_refuse_to_run_in_production_without_needing_faker(command, without_faker):
    result = _run("manage.py", *command, pythonpath=without_faker, **PRODUCTION_SECRETS)
    assert result.returncode != 0
    assert f"{command[0]} is for development machines only" in result.stderr
    assert "Traceback" not in result.stderr and "Faker" not in result.stderr


def test_no_module_production_runs_imports_faker(without_faker, django_db_setup):
    """Every module of the apps imports without Faker, except the demo the commands guard.

    The web entry point checks the database role at import: it is pointed at the test
    database, which exists wherever the suite runs, unlike a development database.
    """
    script = """
import importlib, pkgutil, django
django.setup()
from django.conf import settings
assert settings.PRODUCTION
apps = ["config", "audit", "accounts", "subjects", "retention", "transfers", "requests", "tenants"]
for app in apps:
    package = importlib.import_module(app)
    for module in pkgutil.walk_packages(package.__path__, app + "."):
        if module.name not in {"tenants.demo", "config.test_settings"}:
            importlib.import_module(module.name)
import config.wsgi, config.celery
print("imported")
"""
    database = connection.settings_dict["NAME"]
    result = _run(
        "-c", script, pythonpath=without_faker, POSTGRES_DB=database, **PRODUCTION_SECRETS
    )
    assert result.stdout.strip() == "imported", result.stderr


def test_production_refuses_debug():
    result = _run("manage.py", "check", DEBUG="1", **PRODUCTION_SECRETS)
    assert result.returncode != 0
    assert "DEBUG must be off in production" in result.stderr


def test_deploy_check_is_clean_for_the_default_production_settings(without_faker):
    result = _run(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        pythonpath=without_faker,
        **PRODUCTION_SECRETS,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_malformed_boolean_setting_fails_loudly():
    result = _run("manage.py", "check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_secret_can_be_read_from_a_file(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(GOOD_SECRET)
    result = _run(
        "-c",
        "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)",
        SECRET_KEY_FILE=str(secret_file),
        **{name: value for name, value in PRODUCTION_SECRETS.items() if name != "SECRET_KEY"},
    )
    assert result.stdout.strip() == GOOD_SECRET, result.stderr


def test_production_refuses_the_development_master_key():
    result = _run(
        "manage.py",
        "check",
        **{
            **PRODUCTION_SECRETS,
            "PORTAL_MASTER_KEYS": "dev:ZGV2ZWxvcG1lbnQtb25seS1tYXN0ZXIta2V5LTAwMDA=",
        },
    )
    assert result.returncode != 0
    assert "Production needs its own PORTAL_MASTER_KEYS" in result.stderr
