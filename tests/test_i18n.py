"""Turkish by default, English complete, a switch per user."""

import subprocess

import pytest
from django.conf import settings
from django.urls import reverse
from django_tenants.utils import tenant_context

from accounts.models import User
from tests.conftest import ROOT

CATALOG = ROOT / "config" / "locale" / "tr" / "LC_MESSAGES" / "django.po"


def test_portal_speaks_turkish_by_default_even_to_an_english_browser(owner):
    page = owner.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="tr">' in page
    assert "Gösterge paneli" in page


def test_language_switch_is_remembered_for_the_user(owner, acme):
    response = owner.post(reverse("accounts:set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302

    del owner.cookies[settings.LANGUAGE_COOKIE_NAME]  # the choice is the user's, not the cookie's
    page = owner.get("/").content.decode()
    assert "Dashboard" in page and "Gösterge paneli" not in page
    with tenant_context(acme):
        assert User.objects.get(username="owner").language == "en"


def test_unknown_language_falls_back_to_turkish(owner):
    owner.post(reverse("accounts:set_language"), {"language": "xx", "next": "/"})
    assert "Gösterge paneli" in owner.get("/").content.decode()


def test_switch_refuses_to_redirect_off_site(owner):
    response = owner.post(
        reverse("accounts:set_language"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


@pytest.mark.parametrize("flag", ["--untranslated", "--only-fuzzy"])
def test_turkish_catalog_is_complete(flag):
    result = subprocess.run(
        ["msgattrib", flag, "--no-obsolete", str(CATALOG)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "", result.stdout
