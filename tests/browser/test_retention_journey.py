"""A controller admin's destruction journey in Chromium, against a real web server and worker.

The admin sets a retention rule, asks for a scan, reads the dry run, approves it with a
current authenticator code, finds the signed minutes and downloads their PDF. A
screenshot of each step is kept under .run/test-output/retention-journey/.
"""

import shutil
import time
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import Role
from retention.models import DestructionMinutes
from subjects.models import PersonalDataItem
from tests.browser.steps import Screenshots, staff_log_in, totp_code
from tests.browser.test_login_browser import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import ROOT, in_thread
from tests.factories import staff_create
from tests.retention.register import item, subject, years_ago

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SLUG = "journeyco"
OUTPUT = ROOT / ".run" / "test-output" / "retention-journey"


def _prepare(tenant) -> None:
    with tenant_context(tenant):
        staff_create(schema=SLUG, username="journeyadmin", role=Role.CONTROLLER_ADMIN)
        for number in range(3):  # contact data from three years ago, identity data of today
            subject(
                item("contact", value=f"Eski Sok. No:{number} Kadıköy", collected=years_ago(3)),
                item("identity", value="Doğum: 01.02.1980", collected=years_ago(0.1)),
                name=f"Deneme Kişi {number}",
            )


def _state(tenant) -> tuple[int, int]:
    with tenant_context(tenant):
        return (
            PersonalDataItem.objects.filter(category__code="contact").count(),
            DestructionMinutes.objects.count(),
        )


def test_admin_edits_a_rule_scans_approves_and_downloads_the_minutes(
    committed_tenant, live_portal, celery_worker, monkeypatch
):
    from playwright.sync_api import expect, sync_playwright

    tenant = committed_tenant(SLUG)
    in_thread(_prepare, tenant)
    connection.set_schema_to_public()
    shot = Screenshots(OUTPUT)

    # Playwright's sync API runs an event loop in this thread; the ORM runs in in_thread.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    base = f"http://{SLUG}.localhost:{live_portal}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="tr-TR", accept_downloads=True)
        try:
            staff_log_in(page, base, "journeyadmin", SLUG, login_path="/accounts/login/")
            expect(page.locator("h1")).to_have_text("Gösterge paneli")

            # 1. The admin sets the contact category's rule: one year from collection, destroy.
            page.goto(f"{base}/retention/rules/contact/")
            page.fill("#id_period", "1")
            page.select_option("#id_period_unit", "years")
            page.select_option("#id_event", "collected")
            page.select_option("#id_method", "destroy")
            page.select_option("#id_source", "controller")
            page.check("#id_confirm")
            shot(page, "rule-edited")
            page.locator("main form button[type=submit]").first.click()
            expect(page.locator(".alert-success")).to_contain_text("Saklama kuralı kaydedildi")
            shot(page, "rules-list")

            # 2. A scan: the worker fixes the dry run, which waits for approval.
            page.goto(f"{base}/retention/runs/")
            page.click("#scan-now")
            run_link = page.locator("a[href^='/retention/runs/']").filter(has_text="Periyodik")
            deadline = time.monotonic() + 60
            while not run_link.count() and time.monotonic() < deadline:
                time.sleep(1)
                page.reload()
            run_link.first.click()
            expect(page.locator("main")).to_contain_text("Onay bekliyor")
            expect(page.locator("main")).to_contain_text("3")  # the three expired contact items
            shot(page, "dry-run")
            assert in_thread(_state, tenant) == (3, 0)  # nothing destroyed before approval

            # 3. Approval needs a current code (the next time step: the log-in used this one).
            page.fill("#id_token", totp_code("journeyadmin", SLUG, ahead=1))
            page.click("text=Onayla ve imha et")
            minutes_link = page.locator("a[href^='/retention/minutes/']")
            deadline = time.monotonic() + 60
            while not minutes_link.count() and time.monotonic() < deadline:
                time.sleep(1)
                page.reload()
            expect(page.locator("main")).to_contain_text("Tamamlandı")
            shot(page, "run-done")
            assert in_thread(_state, tenant) == (0, 1)

            # 4. The minutes, signed and chained, and their PDF.
            minutes_link.first.click()
            expect(page.locator("h1")).to_have_text("İmha tutanağı #1")
            shot(page, "minutes")
            with page.expect_download() as download_info:
                page.locator("a[href$='/pdf/']").first.click()
            pdf = Path(download_info.value.path())
            assert pdf.read_bytes().startswith(b"%PDF")
            shutil.copy(pdf, OUTPUT / download_info.value.suggested_filename)
        finally:
            browser.close()
    assert shot.taken() == ["01", "02", "03", "04", "05"]
