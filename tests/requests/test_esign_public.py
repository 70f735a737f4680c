"""The public e-signature page on a controller's host, and the platform admin's trust anchors."""

import re

import pytest
import redis
from cryptography.hazmat.primitives import hashes
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_tenants.utils import schema_context, tenant_context

from accounts.models import User
from audit.models import AuditEntry
from requests.esign import esign_available
from requests.models import Application, ApplicationDocument, ApplicationStatus
from tenants.models import ESignTrustAnchor
from tests.conftest import portal_client
from tests.requests.esign_ca import TCKN, cms_sign, pades_sign, pdf_blank, pki
from tests.requests.helpers import application

pytestmark = pytest.mark.django_db

TENANT = "config.urls_tenant"
PUBLIC = "config.urls_public"


@pytest.fixture(autouse=True)
def _forget_attempt_counters():
    """The attempt counters live in Redis, which no test's rollback undoes."""
    yield
    config = django_settings.CACHES["default"]
    with redis.Redis.from_url(config["LOCATION"]) as client:
        keys = list(client.scan_iter(match=f"*:{config['KEY_PREFIX']}:*:requests:esign-attempts:*"))
        if keys:
            client.delete(*keys)


@pytest.fixture
def anchors(db):
    anchor = ESignTrustAnchor(name="Test Kök ESHS", certificate_pem=pki().root.pem)
    with schema_context("public"):
        anchor.full_clean()
        anchor.save()
    return anchor


def _page(tenant, reference, signed, content=None, *, client=None, address="203.0.113.7"):
    client = client or Client(HTTP_HOST=tenant.host)
    files = {"reference": reference, "signed_file": SimpleUploadedFile("basvuru.pdf", signed)}
    if content is not None:
        files["signed_content"] = SimpleUploadedFile("basvuru.txt", content)
    return client.post(
        reverse("intake:esign", urlconf=TENANT), files, REMOTE_ADDR=address, HTTP_HOST=tenant.host
    )


def _text(response, typed: str = "") -> str:
    """The page without its per-request CSRF tokens, and the reference as typed."""
    text = re.sub(r"[A-Za-z0-9]{64}", "", response.content.decode())
    return text.replace(typed, "<typed>") if typed else text


def test_an_applicant_verifies_with_a_signed_pdf_on_the_public_page(acme, anchors):
    with tenant_context(acme):
        app = application(tckn=TCKN)
    page = Client(HTTP_HOST=acme.host).get(reverse("intake:esign", urlconf=TENANT))
    assert page.status_code == 200
    assert "E-imza ile kimliğinizi doğrulayın" in page.content.decode()

    response = _page(acme, app.reference.lower(), pades_sign(pki().signer))

    assert response.status_code == 200
    text = response.content.decode()
    assert "Kimliğiniz doğrulandı" in text
    assert app.reference in text
    assert "A*** Y***" in text
    assert TCKN not in text
    with tenant_context(acme):
        app.refresh_from_db()
        assert app.status == ApplicationStatus.IN_PROGRESS
        assert ApplicationDocument.objects.filter(application=app, kind="signed").count() == 1


def test_an_applicant_verifies_with_a_detached_p7s_and_the_signed_file(acme, anchors):
    content = "Başvurumu e-imza ile imzaladım.".encode()
    with tenant_context(acme):
        app = application(tckn=TCKN)

    response = _page(acme, app.reference, cms_sign(pki().signer, content), content)

    assert response.status_code == 200, _text(response)
    with tenant_context(acme):
        app.refresh_from_db()
        assert app.status == ApplicationStatus.IN_PROGRESS
        assert ApplicationDocument.objects.filter(application=app).count() == 2


def test_an_unknown_reference_and_a_wrong_signer_get_the_same_answer(acme, anchors):
    with tenant_context(acme):
        app = application(tckn=TCKN)
        verified = application(tckn=TCKN)
    signed_by_other = pades_sign(pki().other)

    unknown = _page(acme, "BSV-2026-999999", signed_by_other)
    known = _page(acme, app.reference, signed_by_other)
    untrusted = _page(acme, app.reference, pades_sign(pki().untrusted))
    _page(acme, verified.reference, pades_sign(pki().signer))
    again = _page(acme, verified.reference, signed_by_other)

    assert unknown.status_code == known.status_code == untrusted.status_code == 400
    assert (
        _text(unknown, "BSV-2026-999999")
        == _text(known, app.reference)
        == _text(untrusted, app.reference)
        == _text(again, verified.reference)
    )
    assert "Kimliğiniz bu belgeyle doğrulanamadı" in _text(known)
    # the exact reason is in the application's processing log, for staff only
    with tenant_context(acme):
        reasons = [
            entry.detail["reason"]
            for entry in AuditEntry.objects.filter(object_id=str(app.pk)).order_by("pk")
            if entry.detail.get("event") == "esign_refused"
        ]
        assert reasons == ["tckn_mismatch", "untrusted"]
        app.refresh_from_db()
        assert app.status == ApplicationStatus.RECEIVED
        assert not ApplicationDocument.objects.filter(application=app).exists()


def test_a_reference_of_another_controller_is_unknown_here(acme, globex, anchors):
    with tenant_context(acme):
        app = application(tckn=TCKN)

    response = _page(globex, app.reference, pades_sign(pki().signer))

    assert response.status_code == 400
    with tenant_context(acme):
        app.refresh_from_db()
        assert app.status == ApplicationStatus.RECEIVED
    with tenant_context(globex):
        assert not Application.objects.filter(reference=app.reference).exists()


def test_a_file_that_is_not_signed_is_refused_next_to_its_field(acme, anchors, settings):
    with tenant_context(acme):
        app = application(tckn=TCKN)

    unsigned = _page(acme, app.reference, b"GIF89a not a document")
    settings.ESIGN_MAX_BYTES = 1000
    too_large = _page(acme, app.reference, pades_sign(pki().signer))

    huge = _page(acme, app.reference, pades_sign(pki().signer) + b"%" * 100_000)

    assert unsigned.status_code == too_large.status_code == 400
    assert huge.status_code == 413
    assert "Dosya sınırdan büyük" in huge.content.decode()
    text = unsigned.content.decode()
    assert "elektronik imzalı bir belge değil" in text
    # the message is tied to its input for screen readers
    assert 'aria-describedby="id_signed_file-help id_signed_file-error" aria-invalid="true"' in text
    assert 'id="id_signed_file-error"' in text
    assert "Dosya sınırdan büyük (1000\xa0bayt)" in too_large.content.decode()
    with tenant_context(acme):
        assert not ApplicationDocument.objects.filter(application=app).exists()


def test_attempts_are_limited_per_address_and_per_reference(acme, anchors, settings):
    settings.ESIGN_ATTEMPTS_PER_ADDRESS = 3
    settings.ESIGN_ATTEMPTS_PER_REFERENCE = 2
    with tenant_context(acme):
        app = application(tckn=TCKN)
    wrong = pdf_blank()

    # per address: the fourth attempt from one address is refused, whatever the reference
    codes = [
        _page(acme, f"BSV-1999-00000{n}", wrong, address="198.51.100.1").status_code
        for n in range(4)
    ]
    assert codes == [400, 400, 400, 429]
    # per reference: the third attempt at one reference is refused, from any address
    codes = [
        _page(acme, app.reference, wrong, address=f"198.51.100.{n}").status_code
        for n in (10, 11, 12)
    ]
    assert codes == [400, 400, 429]
    refused = _page(acme, app.reference, pades_sign(pki().signer), address="198.51.100.13")
    assert refused.status_code == 429
    assert "Çok fazla deneme" in refused.content.decode()
    with tenant_context(acme):
        app.refresh_from_db()
        assert app.status == ApplicationStatus.RECEIVED


def test_the_page_refuses_a_post_without_csrf_token(acme, anchors):
    with tenant_context(acme):
        app = application(tckn=TCKN)
    client = Client(HTTP_HOST=acme.host, enforce_csrf_checks=True)

    response = _page(acme, app.reference, pades_sign(pki().signer), client=client)

    assert response.status_code == 403
    with tenant_context(acme):
        app.refresh_from_db()
        assert app.status == ApplicationStatus.RECEIVED


def test_without_trust_anchors_the_page_says_e_signatures_are_not_available(acme):
    with tenant_context(acme):
        app = application(tckn=TCKN)

    page = Client(HTTP_HOST=acme.host).get(reverse("intake:esign", urlconf=TENANT))
    posted = _page(acme, app.reference, pades_sign(pki().signer))

    for response in (page, posted):
        assert 'id="esign-unavailable"' in response.content.decode()
        assert "<form" not in response.content.decode().split("<main")[1]
    with tenant_context(acme):
        app.refresh_from_db()
        assert app.status == ApplicationStatus.RECEIVED


def test_the_page_is_in_english_when_asked(acme, anchors):
    client = Client(HTTP_HOST=acme.host, HTTP_ACCEPT_LANGUAGE="en")
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("intake:esign", urlconf=TENANT))
    assert "Verify your identity with an e-signature" in page.content.decode()


def test_a_platform_admin_adds_a_trust_anchor_in_the_admin(db):
    admin = portal_client(None, "root")
    add = reverse("admin:tenants_esigntrustanchor_add", urlconf=PUBLIC)

    # a leaf certificate, garbage, and two certificates at once are refused; nothing is saved
    for pem, message in (
        (pki().signer.pem, "sertifika hizmet sağlayıcısının"),
        ("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----", "PEM"),
        (pki().root.pem + pki().intermediate.pem, "tek bir sertifika"),
    ):
        page = admin.post(add, {"name": "Yanlış", "certificate_pem": pem, "is_active": "on"})
        assert page.status_code == 200
        assert message in page.content.decode()
    assert not ESignTrustAnchor.objects.exists()

    page = admin.post(add, {"name": "Test Kök ESHS", "certificate_pem": pki().root.pem,
                            "is_active": "on"})  # fmt: skip
    assert page.status_code == 302, page.content.decode()[:2000]
    anchor = ESignTrustAnchor.objects.get()
    assert anchor.fingerprint == pki().root.certificate.fingerprint(hashes.SHA256()).hex()
    assert "Test Kök ESHS" in anchor.subject
    assert anchor.added_by == User.objects.get(username="root")
    assert anchor.history.count() == 1

    # the same certificate again is refused
    again = admin.post(add, {"name": "Kopya", "certificate_pem": pki().root.pem})
    assert "zaten" in again.content.decode()
    assert ESignTrustAnchor.objects.count() == 1

    listing = admin.get(reverse("admin:tenants_esigntrustanchor_changelist", urlconf=PUBLIC))
    assert "Test Kök ESHS" in listing.content.decode()
    assert esign_available()

    # deactivated (its certificate cannot be edited, only the anchor switched off)
    change = reverse("admin:tenants_esigntrustanchor_change", args=[anchor.pk], urlconf=PUBLIC)
    page = admin.post(change, {"name": "Test Kök ESHS", "certificate_pem": pki().other.pem})
    assert page.status_code == 302
    anchor.refresh_from_db()
    assert not anchor.is_active
    assert anchor.certificate_pem == pki().root.pem.strip()
    assert not esign_available()


def test_the_runtime_role_reads_the_public_trust_anchor_table(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, has_table_privilege(current_user, %s, 'SELECT'),"
            " has_table_privilege(current_user, %s, 'SELECT')",
            [f"public.{ESignTrustAnchor._meta.db_table}",
             f"public.{ESignTrustAnchor.history.model._meta.db_table}"],
        )  # fmt: skip
        user, anchors, history = cursor.fetchone()
    assert user == django_settings.DB_CREDENTIALS["runtime"]["USER"]
    assert anchors and history


def test_a_controllers_staff_cannot_reach_the_trust_anchor_admin(acme, owner):
    response = owner.get(
        reverse("admin:tenants_esigntrustanchor_changelist", urlconf=PUBLIC),
        HTTP_HOST=acme.host,
    )
    assert response.status_code == 404
