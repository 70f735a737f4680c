"""An access application from end to end in Chromium, with a real worker and real e-mail.

1. A data subject files an access application on the controller's host, without an account.
2. They confirm their identity with the code the portal mails to the address the register
   holds for them, read from the SMTP sink.
3. An officer logs in with a TOTP code, finds the application in the queue, has the worker
   build the access package, blacks out a third party named in a call, releases it, and
   answers with a letter the worker renders.
4. The subject follows the application with its reference and a new code, and downloads
   the answer letter and their data, each once.

A screenshot of each step is kept under .run/test-output/application-journey/.
"""

import json

import pytest
from django.urls import reverse
from django_tenants.utils import tenant_context

from accounts.models import Role
from requests.models import Application
from subjects.selectors import subject_identifiers
from tests.browser.steps import Screenshots, staff_log_in
from tests.browser.test_login_browser import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import ROOT, in_thread
from tests.factories import staff_create
from tests.requests.intake_support import throttle_reset
from tests.requests.rights_setup import THIRD_PARTY, world

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db]

SLUG = "basvuruyolu"
OFFICER = "journeyofficer"
OUTPUT = ROOT / ".run" / "test-output" / "application-journey"
WORKER_WAIT = 90_000  # milliseconds Playwright waits for the worker's result


def _prepare(tenant) -> dict:
    with tenant_context(tenant):
        staff_create(schema=SLUG, username=OFFICER, role=Role.REQUEST_OFFICER)
        held = world(rights=("a",), username=OFFICER, apply=False)
        identifiers = subject_identifiers(held.subject)
        return {
            "subject": held.subject.pk,
            "tckn": identifiers["tckn"],
            "email": identifiers["email"],
            "login": reverse("accounts:login"),
            "queue": reverse("requests:index"),
        }


def _application(tenant, reference: str) -> dict:
    with tenant_context(tenant):
        application = Application.objects.get(reference=reference)
        return {
            "pk": application.pk,
            "rights_path": reverse("requests:rights", args=[application.pk]),
            "subject": application.subject_id,
            "status": application.status,
            "method": application.identity_method,
            "outcome": application.outcome,
        }


def test_a_subject_applies_verifies_and_downloads_the_answer_an_officer_prepared(
    committed_tenant, mailing_portal, mail_sink, celery_worker, monkeypatch
):
    from playwright.sync_api import expect, sync_playwright

    handler, _smtp_port = mail_sink
    tenant = committed_tenant(SLUG)
    prepared = in_thread(_prepare, tenant)
    in_thread(throttle_reset)
    tckn, held_email = prepared["tckn"], prepared["email"]
    login_path, queue_path = prepared["login"], prepared["queue"]
    shot = Screenshots(OUTPUT)

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    base = f"http://{SLUG}.localhost:{mailing_portal}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            subject_page = browser.new_context(locale="tr-TR", accept_downloads=True).new_page()
            # 1. The application, typed with another e-mail address than the register's.
            subject_page.goto(f"{base}/basvuru/")
            subject_page.fill("#id_first_name", "Ayşe")
            subject_page.fill("#id_last_name", "Yılmaz")
            subject_page.check("#id_identity_kind_0")
            subject_page.fill("#id_tckn", tckn)
            subject_page.fill("#id_address", "Çiçek Sok. No:5 Kadıköy İstanbul")
            subject_page.fill("#id_email", "baska.adres@ornek.com.tr")
            subject_page.check("#id_rights_0")
            subject_page.fill("#id_details", "Hakkımda hangi verileri işliyorsunuz?")
            shot(subject_page, "application-form")
            subject_page.click("button[type=submit].btn-primary")
            subject_page.wait_for_url(f"{base}/basvuru/dogrulama/")
            reference = subject_page.locator(".reference").inner_text()
            assert reference.startswith("BSV-")

            # 2. The code goes to the register's address, not to the typed one.
            subject_page.check("#id_medium_0")
            sent = len(handler.messages)
            subject_page.click("form:has(input[value=send]) button[type=submit]")
            code = handler.code_for(held_email, sent)
            assert not any("baska.adres" in m["To"] for m in handler.messages[sent:])
            shot(subject_page, "code-sent")
            subject_page.fill("#id_code", code)
            subject_page.click("form:has(input[value=check]) button[type=submit]")
            expect(subject_page.locator("main")).to_contain_text("Kimliğiniz doğrulandı")
            shot(subject_page, "verified")
            found = in_thread(_application, tenant, reference)
            assert (found["subject"], found["status"], found["method"]) == (
                prepared["subject"],
                "in_progress",
                "email_code",
            )

            # 3. The officer: log-in with TOTP, the queue, the application, the rights page.
            page = browser.new_context(locale="tr-TR").new_page()
            staff_log_in(page, base, OFFICER, SLUG, login_path=login_path)
            page.goto(f"{base}{queue_path}")
            expect(page.locator("main")).to_contain_text(reference)
            shot(page, "queue")
            page.click(f"text={reference}")
            expect(page.locator("h1")).to_contain_text(reference)
            shot(page, "application")
            page.goto(f"{base}{found['rights_path']}")
            page.click("#answer-open")
            expect(page.locator("#answer-categories")).to_contain_text("İletişim")
            shot(page, "answer")
            page.click("#package-build")
            status = page.locator("[id^=package-][id$=-status]").first
            expect(status).to_have_attribute("data-status", "ready", timeout=WORKER_WAIT)
            page.locator("[id^=package-][id$=-review]").first.click()
            page.click("#package-open")
            expect(page.locator("#package-interactions")).to_contain_text(THIRD_PARTY)
            page.select_option("#id_path", "interactions.0.text")
            page.fill("#id_find", THIRD_PARTY)
            page.fill("#id_reason", "Başvuru sahibinin eşinin adı (üçüncü kişi)")
            page.click("#redact")
            expect(page.locator("#package-interactions")).not_to_contain_text(THIRD_PARTY)
            shot(page, "redacted")
            page.click("#package-release")
            expect(page.locator(".alert-success")).to_contain_text("Erişim paketi")
            page.click("#compose-accepted")
            page.click("#letter-compose")
            letter = page.locator("[id^=letter-][id$=-status]").first
            expect(letter).to_have_attribute("data-status", "ready", timeout=WORKER_WAIT)
            page.locator("[id^=letter-][id$=-release]").first.click()
            expect(page.locator(".alert-success")).to_contain_text("Cevap gönderildi")
            shot(page, "answered")

            # 4. The subject follows the application with a new code and downloads the answer.
            subject_page.goto(f"{base}/basvuru/takip/")
            subject_page.fill("#id_reference", reference)
            subject_page.check("#id_medium_0")
            sent = len(handler.messages)
            subject_page.click("main button[type=submit]")
            subject_page.wait_for_url(f"{base}/basvuru/takip/kod/")
            subject_page.fill("#id_code", handler.code_for(held_email, sent))
            subject_page.click("main button[type=submit]")
            subject_page.wait_for_url(f"{base}/basvuru/takip/{reference}/")
            expect(subject_page.locator("main")).to_contain_text("Yanıtlandı")
            shot(subject_page, "follow")
            buttons = subject_page.locator("form[action*='/indir/'] button")
            assert buttons.count() == 4  # the letter, and the data as CSV, JSON and PDF
            files = {}
            for index in range(buttons.count()):
                with subject_page.expect_download() as download:
                    subject_page.locator("form[action*='/indir/'] button").nth(index).click()
                path = download.value.path()
                files[download.value.suggested_filename] = path.read_bytes()
            shot(subject_page, "downloaded")
            letters = [content for name, content in files.items() if "cevap" in name]
            assert len(letters) == 1 and letters[0].startswith(b"%PDF")
            data = next(content for name, content in files.items() if name.endswith(".json"))
            assert THIRD_PARTY not in data.decode()
            assert json.loads(data)  # the package is well-formed JSON
            # Each file goes once per code: the same button again is refused.
            with subject_page.expect_response(lambda r: "/indir/" in r.url) as again:
                subject_page.locator("form[action*='/indir/'] button").first.click()
            response = again.value
            assert response.status == 410
        finally:
            browser.close()

    assert in_thread(_application, tenant, reference)["outcome"] == "accepted"
    in_thread(throttle_reset)
    assert shot.taken() == [f"{n:02d}" for n in range(1, 11)]
