"""A disclosure request's journey in Chromium, three people each in a browser of their own.

An officer registers a court's request that has arrived; a controller admin classifies it
as legally binding and authorises it; a second controller admin authorises it too and
downloads the export, which is logged as a transfer to the court. A screenshot of each
step is kept under .run/test-output/disclosure-journey/.
"""

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import Role
from audit.models import AuditEntry
from subjects.models import DataCategory, ProcessingPurpose
from tests.browser.steps import Screenshots, staff_log_in, totp_code
from tests.browser.test_login_browser import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import ROOT, in_thread
from tests.factories import staff_create
from tests.retention.register import item, subject
from transfers.models import DisclosureRequest, Transfer

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SLUG = "disclosureco"
OUTPUT = ROOT / ".run" / "test-output" / "disclosure-journey"
COURT = "İstanbul 12. Asliye Hukuk Mahkemesi"


def _prepare(tenant) -> dict:
    with tenant_context(tenant):
        staff_create(schema=SLUG, username="deskofficer", role=Role.REQUEST_OFFICER)
        staff_create(schema=SLUG, username="firstapprover", role=Role.CONTROLLER_ADMIN)
        staff_create(schema=SLUG, username="secondapprover", role=Role.CONTROLLER_ADMIN)
        subject(
            item("contact", value="Lale Sok. No:7 Beşiktaş"),
            item("identity", value="Doğum: 03.04.1985"),
            name="Zeynep Kaya",
            identifier="zeynep.kaya@ornek.com.tr",
        )
        purpose = ProcessingPurpose.objects.create(
            code="authorities", name="Yetkili kişi, kurum ve kuruluşlara bilgi verilmesi"
        )
        return {
            "contact": DataCategory.objects.get(code="contact").pk,
            "purpose": purpose.pk,
        }


def _outcome(tenant) -> dict:
    with tenant_context(tenant):
        disclosure = DisclosureRequest.objects.get()
        transfers = list(Transfer.objects.select_related("recipient"))
        return {
            "status": disclosure.status,
            "authorisers": sorted(a.user.username for a in disclosure.authorisations.all()),
            "transfers": [(t.recipient.name, t.source, t.legal_basis, t.ground) for t in transfers],
            "exports": AuditEntry.objects.filter(
                action="export", detail__event="disclosure_exported"
            ).count(),
        }


def test_a_request_is_registered_classified_authorised_by_two_and_exported_as_a_transfer(
    committed_tenant, live_portal, monkeypatch
):
    from playwright.sync_api import expect, sync_playwright

    tenant = committed_tenant(SLUG)
    ids = in_thread(_prepare, tenant)
    connection.set_schema_to_public()
    shot = Screenshots(OUTPUT)

    # Playwright's sync API runs an event loop in this thread; the ORM runs in in_thread.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    base = f"http://{SLUG}.localhost:{live_portal}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def log_in(username: str):
            context = browser.new_context(locale="tr-TR", accept_downloads=True)
            page = context.new_page()
            staff_log_in(page, base, username, SLUG, login_path="/accounts/login/")
            expect(page.locator("h1")).to_have_text("Gösterge paneli")
            return page

        try:
            # 1. The court's letter arrives: an officer registers it from the transfers page.
            officer = log_in("deskofficer")
            officer.goto(f"{base}/transfers/")
            officer.click("#disclosure-desk-link")
            officer.click("#disclosure-new")
            officer.fill("#id_requester_name", COURT)
            officer.select_option("#id_requester_kind", "court")
            officer.fill("#id_instrument", "2026/481 Esas sayılı müzekkere")
            officer.fill("#id_received_at", "2026-12-01T09:30")
            officer.fill("#id_identifiers", "zeynep.kaya@ornek.com.tr")
            officer.check(f"input[name=categories][value='{ids['contact']}']")
            shot(officer, "officer-registers")
            officer.locator("main form button[type=submit]").first.click()
            expect(officer.locator(".alert-success")).to_contain_text("Bilgi talebi kaydedildi")
            expect(officer.locator("[data-status]")).to_have_text("Alındı, sınıflandırılmadı")
            request_url = officer.url
            shot(officer, "registered")

            # 2. A controller admin classifies it as legally binding, with the provision.
            first = log_in("firstapprover")
            first.goto(request_url)
            first.check("#id_binding_0")
            first.fill("#id_provision", "6100 sayılı HMK m. 219 (belge ibrazı)")
            first.select_option("#id_ground", "art5_2_c2")
            first.select_option("#id_purpose", str(ids["purpose"]))
            shot(first, "classify")
            first.click("#classify button[type=submit]")
            expect(first.locator("[data-status]")).to_have_text("Bağlayıcı, onay bekliyor")
            shot(first, "classified-binding")

            # 3. A second controller admin authorises it with a current code.
            second = log_in("secondapprover")
            second.goto(request_url)
            second.fill("#id_token", totp_code("secondapprover", SLUG, ahead=1))
            second.click("#authorise")
            expect(second.locator(".alert-success")).to_contain_text("Onayınız kaydedildi")
            expect(second.locator("#export")).to_have_count(0)  # one authorisation is not enough
            shot(second, "second-authorised")

            # 4. The first admin authorises too: two different people, the request is authorised.
            first.reload()
            first.fill("#id_token", totp_code("firstapprover", SLUG, ahead=1))
            first.click("#authorise")
            expect(first.locator("[data-status]")).to_have_text("Onaylandı")
            shot(first, "first-authorised")

            # 5. The export: a ZIP of the data in scope, logged as a transfer to the court.
            second.reload()
            with second.expect_download() as download_info:
                second.click("#export")
            archive = Path(download_info.value.path())
            shutil.copy(archive, OUTPUT / download_info.value.suggested_filename)
            with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as zipped:
                data = json.loads(zipped.read("data.json"))
            assert [row["value"] for row in data["items"]] == ["Lale Sok. No:7 Beşiktaş"]
            second.reload()
            expect(second.locator("[data-status]")).to_have_text("Açıklandı")
            expect(second.locator("#timeline")).to_contain_text("Açıklandı")
            shot(second, "disclosed")

            # 6. The transfer log lists the disclosure to the court.
            second.goto(f"{base}/transfers/log/")
            expect(second.locator("main")).to_contain_text(COURT)
            shot(second, "transfer-log")
        finally:
            browser.close()
    outcome = in_thread(_outcome, tenant)
    assert outcome == {
        "status": "disclosed",
        "authorisers": ["firstapprover", "secondapprover"],
        "transfers": [(COURT, "disclosure", "art8_2_a", "art5_2_c2")],
        "exports": 1,
    }
    assert shot.taken() == [f"{n:02d}" for n in range(1, 9)]
