"""The staff side of an access application in Chromium, with a real worker.

An officer logs in with a TOTP code, opens a verified application, reads the generated
answer, has the worker build the access package, blacks out a third party named in an
interaction, releases the package, then composes the answer letter, which the worker
renders, and releases it. A screenshot of each step is kept under
.run/test-output/application-staff/.
"""

import pytest
from django.db import connection
from django.urls import reverse
from django_tenants.utils import tenant_context

from accounts.models import Role
from requests.models import AccessPackage, Application, JobStatus
from tests.browser.steps import Screenshots, staff_log_in
from tests.browser.test_login_browser import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import ROOT, in_thread
from tests.factories import staff_create
from tests.requests.rights_setup import THIRD_PARTY, world

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db]

SLUG = "haklarco"
OFFICER = "rightsofficer"
OUTPUT = ROOT / ".run" / "test-output" / "application-staff"
WORKER_SECONDS = 90_000  # milliseconds Playwright waits for the worker's result


def _prepare(tenant) -> int:
    with tenant_context(tenant):
        staff_create(schema=SLUG, username=OFFICER, role=Role.REQUEST_OFFICER)
        return world(rights=("a", "b"), username=OFFICER).application.pk


def _outcome(tenant, application_id: int) -> dict:
    with tenant_context(tenant):
        application = Application.objects.get(pk=application_id)
        package = AccessPackage.objects.get(application=application)
        return {
            "status": application.status,
            "outcome": application.outcome,
            "package": package.status,
            "redactions": [r["path"] for r in package.redactions],
            "letters": list(application.letters.values_list("status", flat=True)),
        }


def test_an_officer_builds_redacts_and_releases_the_package_then_answers(
    committed_tenant, live_portal, celery_worker, monkeypatch
):
    from playwright.sync_api import expect, sync_playwright

    tenant = committed_tenant(SLUG)
    application_id = in_thread(_prepare, tenant)
    with tenant_context(tenant):
        rights_path = reverse("requests:rights", args=[application_id])
        login_path = reverse("accounts:login")
    connection.set_schema_to_public()
    shot = Screenshots(OUTPUT)

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    base = f"http://{SLUG}.localhost:{live_portal}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(locale="tr-TR").new_page()
            # 1. The officer logs in with a password and a TOTP code.
            staff_log_in(page, base, OFFICER, SLUG, login_path=login_path)
            expect(page.locator("h1")).to_have_text("Gösterge paneli")

            # 2. The verified application: the generated answer, after a logged read.
            page.goto(f"{base}{rights_path}")
            expect(page.locator("h1")).to_contain_text("Hakların yerine getirilmesi")
            page.click("#answer-open")
            expect(page.locator("#answer-categories")).to_contain_text("İletişim")
            expect(page.locator("#recipients-abroad")).to_contain_text("Bulut GmbH")
            shot(page, "answer")

            # 3. The worker builds the access package; the page follows its status.
            page.click("#package-build")
            status = page.locator("[id^=package-][id$=-status]").first
            expect(status).to_have_attribute("data-status", "ready", timeout=WORKER_SECONDS)
            shot(page, "package-ready")

            # 4. Review: the third party named in a call is blacked out, with a reason.
            page.locator("[id^=package-][id$=-review]").first.click()
            page.click("#package-open")
            expect(page.locator("#package-interactions")).to_contain_text(THIRD_PARTY)
            page.select_option("#id_path", "interactions.0.text")
            page.fill("#id_find", THIRD_PARTY)
            page.fill("#id_reason", "Başvuru sahibinin eşinin adı (üçüncü kişi)")
            shot(page, "redaction-form")
            page.click("#redact")
            expect(page.locator(".alert-success")).to_contain_text("Karartma kaydedildi")
            expect(page.locator("#package-interactions")).not_to_contain_text(THIRD_PARTY)
            expect(page.locator("#redactions")).to_contain_text("interactions.0.text")
            shot(page, "redacted")

            # 5. Release to the applicant.
            page.click("#package-release")
            expect(page.locator(".alert-success")).to_contain_text("Erişim paketi")
            shot(page, "package-released")

            # 6. The answer letter: drafted from the template, rendered by the worker.
            page.click("#compose-accepted")
            expect(page.locator("#id_body")).to_contain_text("Sayın Ayşe Yılmaz")
            shot(page, "compose")
            page.click("#letter-compose")
            letter_status = page.locator("[id^=letter-][id$=-status]").first
            expect(letter_status).to_have_attribute("data-status", "ready", timeout=WORKER_SECONDS)
            shot(page, "letter-ready")

            # 7. Release: the application is answered.
            page.locator("[id^=letter-][id$=-release]").first.click()
            expect(page.locator(".alert-success")).to_contain_text("Cevap gönderildi")
            expect(letter_status).to_have_attribute("data-status", "released")
            shot(page, "answered")
        finally:
            browser.close()

    assert in_thread(_outcome, tenant, application_id) == {
        "status": "answered",
        "outcome": "accepted",
        "package": JobStatus.RELEASED,
        "redactions": ["interactions.0.text"],
        "letters": [JobStatus.RELEASED],
    }
    assert shot.taken() == [f"{n:02d}" for n in range(1, 9)]
