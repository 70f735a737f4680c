"""In production, web and workers refuse to start when their database role could rewrite the log."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from tests.conftest import ROOT, SUPERUSER

PRODUCTION = {
    "PORTAL_ENV": "production",
    "DEBUG": "0",
    "SECRET_KEY": "p" * 20 + "r0duct10n-s3cr3t-" + "q" * 20,
    "PORTAL_MASTER_KEYS": "k1:" + "A" * 43 + "=",
    "PORTAL_SIGNING_KEY": "cHJvZHVjdGlvbi10ZXN0LXNpZ25pbmcta2V5LTAwMDA=",
}
REFUSAL = "Refusing to start: the database checks failed."


def _run(args: list[str], timeout: int = 120, **env: str) -> subprocess.CompletedProcess:
    base = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "PORTAL_SIGNING_KEY"}
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def production(db) -> dict[str, str]:
    """Production settings on the test database, connected as the superuser."""
    return {
        **PRODUCTION,
        "POSTGRES_DB": connection.settings_dict["NAME"],
        "POSTGRES_USER": SUPERUSER,
    }


def test_production_refuses_to_start_without_its_own_signing_key():
    env = {key: value for key, value in PRODUCTION.items() if key != "PORTAL_SIGNING_KEY"}
    result = _run(["manage.py", "check"], **env)
    assert result.returncode != 0
    assert "Production needs its own PORTAL_SIGNING_KEY" in result.stderr

    development_key = "ZGV2ZWxvcG1lbnQtb25seS1zaWduaW5nLWtleS0wMDA="
    result = _run(["manage.py", "check"], **{**env, "PORTAL_SIGNING_KEY": development_key})
    assert "Production needs its own PORTAL_SIGNING_KEY" in result.stderr


def test_the_web_application_refuses_to_start_as_the_superuser(production):
    result = _run(["-c", "import config.wsgi"], **production)
    assert result.returncode != 0
    assert REFUSAL in result.stderr
    assert "the database role is a superuser" in result.stderr


def test_the_web_application_starts_as_the_runtime_role(production):
    result = _run(
        ["-c", "import config.wsgi; print('serving')"],
        **{**production, "POSTGRES_USER": "kvkk_app"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "serving"


def test_a_worker_refuses_to_start_as_the_superuser(production, tmp_path):
    worker = ["-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", "refused-queue"]
    result = _run(worker, timeout=60, **production)
    assert result.returncode != 0
    assert REFUSAL in result.stdout + result.stderr


def test_beat_refuses_to_start_as_the_superuser(production, tmp_path):
    beat = ["-m", "celery", "-A", "config", "beat", "-s", str(tmp_path / "beat-schedule")]
    result = _run(beat, timeout=60, **production)
    assert result.returncode != 0
    assert REFUSAL in result.stdout + result.stderr
