"""A person logs in with password and authenticator code in Chromium and reads Turkish, then English."""

import shutil

import pytest
from django_otp.oath import totp

from tests.factories import PASSWORD, totp_key_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _code() -> str:
    return f"{totp(bytes.fromhex(totp_key_for('browser', 'acme'))):06d}"


def test_staff_logs_in_with_totp_sees_turkish_dashboard_and_switches_to_english(
    live_portal, tmp_path, monkeypatch
):
    from playwright.sync_api import expect, sync_playwright

    # Playwright's sync API runs an event loop in this thread; nothing below touches the ORM.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    base = f"http://acme.localhost:{live_portal}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="en-US")
        try:
            page.goto(f"{base}/")
            expect(page).to_have_url(f"{base}/accounts/login/?next=/")
            expect(page.locator("h1")).to_have_text("Giriş yap")

            page.fill("#id_username", "browser")
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit].btn-primary")
            expect(page.locator("h1")).to_have_text("İki adımlı doğrulama")

            page.fill("#id_token", _code())
            page.click("button[type=submit].btn-primary")
            expect(page.locator("h1")).to_have_text("Gösterge paneli")
            expect(page.locator("html")).to_have_attribute("lang", "tr")
            page.screenshot(path=str(tmp_path / "dashboard-tr.png"))

            page.click("#language-switch button[value=en]")
            expect(page.locator("h1")).to_have_text("Dashboard")
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.get_by_role("link", name="Requests")).to_be_visible()
        finally:
            browser.close()
