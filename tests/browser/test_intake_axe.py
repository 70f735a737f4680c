"""Every public page of applications, in Turkish and in English, checked with axe-core in
Chromium: no serious or critical accessibility violation, in normal and in error states.

The portal runs in a web server of its own here, whose e-mail goes to an SMTP sink in this
process, so the codes are read from the messages as an applicant would read them.
"""

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from tests.browser.test_login_browser import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import ROOT, in_thread
from tests.requests.helpers import register_subject, tckn_make
from tests.requests.intake_support import throttle_reset

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SLUG = "intakeaxe"
OUTPUT = ROOT / ".run" / "test-output" / "intake-axe"
HELD_EMAIL = {"tr": "erisim.tr@ornek.com.tr", "en": "erisim.en@ornek.com.tr"}
KNOWN = {"tr": tckn_make(9301), "en": tckn_make(9302)}
REPEATED = {"tr": tckn_make(9303), "en": tckn_make(9304)}
SERIOUS = {"serious", "critical"}


def _prepare(tenant) -> None:
    with tenant_context(tenant):
        for language, number in KNOWN.items():
            register_subject(tckn=number, email=HELD_EMAIL[language])


def test_public_pages_have_no_serious_accessibility_violations(
    committed_tenant, mailing_portal, mail_sink, monkeypatch
):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    handler, _smtp_port = mail_sink
    tenant = committed_tenant(SLUG)
    in_thread(_prepare, tenant)
    in_thread(throttle_reset)
    connection.set_schema_to_public()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    base = f"http://{SLUG}.localhost:{mailing_portal}"
    axe = Axe()
    found: dict[str, list[str]] = {}

    def check(page, name: str) -> None:
        page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)
        results = axe.run(page)
        serious = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
            for v in results.response["violations"]
            if v["impact"] in SERIOUS
        ]
        found[name] = serious

    def fill_form(page, language: str, tckn: str) -> None:
        page.fill("#id_first_name", "Ayşe")
        page.fill("#id_last_name", "Yılmaz")
        page.check("#id_identity_kind_0")
        page.fill("#id_tckn", tckn)
        page.fill("#id_address", "Çiçek Sok. No:5 Kadıköy İstanbul")
        page.fill("#id_email", f"yazilan.{language}@ornek.com.tr")
        page.check("#id_rights_0")
        page.fill("#id_details", "Hangi verilerimi işliyorsunuz?")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for language in ("tr", "en"):
                context = browser.new_context(locale="tr-TR")
                context.add_cookies([{"name": "django_language", "value": language, "url": base}])
                page = context.new_page()
                page.goto(f"{base}/basvuru/")
                assert page.locator("html").get_attribute("lang") == language
                check(page, f"{language}-01-form")
                page.click("button[type=submit].btn-primary")
                assert page.locator("#error-summary").is_visible()
                check(page, f"{language}-02-form-errors")
                fill_form(page, language, KNOWN[language])
                page.click("button[type=submit].btn-primary")
                page.wait_for_url(f"{base}/basvuru/dogrulama/")
                reference = page.locator(".reference").inner_text()
                check(page, f"{language}-03-verify")
                page.check("#id_medium_0")
                sent = len(handler.messages)
                page.click("form:has(input[value=send]) button[type=submit]")
                code = handler.code_for(HELD_EMAIL[language], sent)
                page.fill("#id_code", "000000" if code != "000000" else "111111")
                page.click("form:has(input[value=check]) button[type=submit]")
                assert page.locator("#id_code_error").is_visible()
                check(page, f"{language}-04-verify-code-error")
                page.fill("#id_code", code)
                page.click("form:has(input[value=check]) button[type=submit]")
                check(page, f"{language}-05-verified")

                page.goto(f"{base}/basvuru/takip/")
                check(page, f"{language}-06-follow")
                page.fill("#id_reference", "nope")
                page.click("main button[type=submit]")
                assert page.locator("#id_reference_error").is_visible()
                check(page, f"{language}-07-follow-error")
                page.fill("#id_reference", reference)
                page.check("#id_medium_0")
                sent = len(handler.messages)
                page.click("main button[type=submit]")
                page.wait_for_url(f"{base}/basvuru/takip/kod/")
                code = handler.code_for(HELD_EMAIL[language], sent)
                check(page, f"{language}-08-follow-code")
                page.fill("#id_code", "12")
                page.click("main button[type=submit]")
                check(page, f"{language}-09-follow-code-error")
                page.fill("#id_code", code)
                page.click("main button[type=submit]")
                page.wait_for_url(f"{base}/basvuru/takip/{reference}/")
                check(page, f"{language}-10-follow-status")
                page.click("form[action$='/yanit/'] button[type=submit]")
                assert page.locator("#id_text_error").is_visible()
                check(page, f"{language}-11-follow-reply-error")

                for _ in range(3):  # the third application for one person within the hour
                    page.goto(f"{base}/basvuru/")
                    fill_form(page, language, REPEATED[language])
                    page.click("button[type=submit].btn-primary")
                assert page.locator("main .alert-warning").is_visible()
                check(page, f"{language}-12-rate-limited")

                page.goto(f"{base}/basvuru/e-imza/")
                check(page, f"{language}-13-esign")
                page.click("main button[type=submit]")
                check(page, f"{language}-14-esign-errors")
                context.close()
        finally:
            browser.close()
    in_thread(throttle_reset)
    assert len(found) == 28
    failing = {name: issues for name, issues in found.items() if issues}
    assert not failing, "\n".join(f"{name}: {issues}" for name, issues in failing.items())
