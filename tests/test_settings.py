"""Production settings refuse unsafe values; the deploy check is clean when they are right."""

import os
import subprocess
import sys

from tests.conftest import ROOT

GOOD_SECRET = "p" * 20 + "r0duct10n-s3cr3t-" + "q" * 20
GOOD_MASTER = "k1:" + "A" * 43 + "="
GOOD_SIGNING = "cHJvZHVjdGlvbi10ZXN0LXNpZ25pbmcta2V5LTAwMDA="  # 32 bytes, base64


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG"}
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_refuses_the_default_secret():
    result = _run("manage.py", "check", PORTAL_ENV="production")
    assert result.returncode != 0
    assert "Production needs its own SECRET_KEY" in result.stderr


def test_production_refuses_debug():
    result = _run(
        "manage.py",
        "check",
        PORTAL_ENV="production",
        SECRET_KEY=GOOD_SECRET,
        PORTAL_MASTER_KEYS=GOOD_MASTER,
        DEBUG="1",
    )
    assert result.returncode != 0
    assert "DEBUG must be off in production" in result.stderr


def test_deploy_check_is_clean_for_production_settings():
    result = _run(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        PORTAL_ENV="production",
        SECRET_KEY=GOOD_SECRET,
        PORTAL_MASTER_KEYS=GOOD_MASTER,
        PORTAL_SIGNING_KEY=GOOD_SIGNING,
        ALLOWED_HOSTS="portal.example.com.tr,.portal.example.com.tr",
    )
    assert result.returncode == 0, result.stdout + result.stderr


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
        PORTAL_ENV="production",
        PORTAL_MASTER_KEYS=GOOD_MASTER,
        PORTAL_SIGNING_KEY=GOOD_SIGNING,
        SECRET_KEY_FILE=str(secret_file),
    )
    assert result.stdout.strip() == GOOD_SECRET, result.stderr


def test_production_refuses_the_development_master_key():
    result = _run("manage.py", "check", PORTAL_ENV="production", SECRET_KEY=GOOD_SECRET)
    assert result.returncode != 0
    assert "Production needs its own PORTAL_MASTER_KEYS" in result.stderr
