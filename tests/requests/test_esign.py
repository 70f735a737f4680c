"""Identity verification by an e-signed application: pyHanko validation against the
platform's trust anchors, with the signer's TCKN matched to the applicant's."""

import random
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from django.utils import translation
from django_tenants.utils import schema_context, tenant_context
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from accounts.models import User
from audit.models import AuditEntry
from config.errors import PortalError
from requests import esign, services
from requests.models import ApplicationDocument, ApplicationStatus, IdentityMethod
from requests.services import document_content
from tenants.models import ESignTrustAnchor
from tests.requests import esign_ca
from tests.requests.esign_ca import OTHER_TCKN, TCKN, cms_sign, pades_sign, pdf_blank, pki
from tests.requests.helpers import application

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def anchors(db):
    """The test CA's root, configured by the platform admin as a trust anchor."""
    return anchor_add(pki().root.pem)


def anchor_add(pem: str) -> ESignTrustAnchor:
    anchor = ESignTrustAnchor(name="Test Kök ESHS", certificate_pem=pem)
    with schema_context("public"):
        anchor.full_clean()
        anchor.save()
    return anchor


def _refusal(data, *, content=None, tckn=TCKN) -> PortalError:
    with pytest.raises(PortalError) as caught:
        esign.signature_verify(data=data, detached_content=content, tckn=tckn)
    return caught.value


def _events(app) -> list[dict]:
    return [
        entry.detail
        for entry in AuditEntry.objects.filter(object_id=str(app.pk)).order_by("pk")
        if entry.detail.get("event", "").startswith(("esign", "identity", "document"))
    ]


def test_a_pades_pdf_signed_by_the_applicant_verifies_and_moves_the_application_on(acme, anchors):
    with tenant_context(acme):
        app = application(tckn=TCKN)
        signed = pades_sign(pki().signer)

        result = esign.esign_check_document(app, signed)

        assert result.tckn == TCKN
        assert result.signer_name == "Ayşe Yılmaz"
        assert result.form == "pades"
        assert result.signed_at is not None
        assert len(result.fingerprint) == 64
        app.refresh_from_db()
        assert app.status == ApplicationStatus.IN_PROGRESS
        assert app.identity_method == IdentityMethod.E_SIGNATURE
        assert app.verified_destination == "e-imza: A*** Y***"
        document = ApplicationDocument.objects.get(application=app)
        assert document.kind == ApplicationDocument.Kind.SIGNED
        assert document.content_type == "application/pdf"
        assert document_content(document) == signed
        events = _events(app)
        verified = next(event for event in events if event["event"] == "esign_verified")
        assert verified["fingerprint"] == result.fingerprint
        assert verified["revocation"] == "not_checked"
        assert any(event["event"] == "identity_verified" for event in events)


def test_a_detached_cms_signature_verifies_with_its_signed_file(acme, anchors):
    content = "Başvuru: KVKK md. 11 (a) erişim".encode()
    with tenant_context(acme):
        app = application(tckn=TCKN)

        result = esign.esign_check_document(
            app, cms_sign(pki().signer, content), detached_content=content
        )

        assert result.form == "cades"
        app.refresh_from_db()
        assert app.status == ApplicationStatus.IN_PROGRESS
        stored = [document_content(d) for d in ApplicationDocument.objects.filter(application=app)]
        assert content in stored and len(stored) == 2


def test_an_attached_pem_cms_verifies_without_a_separate_file(anchors):
    signature = cms_sign(pki().signer, b"basvuru", detached=False, armored=True)
    assert signature.startswith(b"-----BEGIN PKCS7-----")
    assert esign.signature_verify(data=signature, tckn=TCKN).tckn == TCKN


@pytest.mark.parametrize(
    ("serial", "read"),
    [
        (TCKN, TCKN),
        (f"TCKN{TCKN}", TCKN),
        (f"TR{TCKN}", TCKN),
        (f"IDCTR-{TCKN}", TCKN),
        ("12345", ""),
        (f"PASTR-{TCKN}", ""),
        (f"{TCKN}9", ""),
    ],
)
def test_the_tckn_is_read_from_the_subject_serial_number_in_its_known_forms(serial, read):
    certificate = esign_ca._issue(esign_ca._name("Ayşe Yılmaz", serial), pki().intermediate,
                                  ca=False).certificate  # fmt: skip
    assert esign.tckn_in_certificate(esign_ca._asn1(certificate)) == read


def test_a_signer_whose_tckn_does_not_match_is_refused_and_nothing_is_saved(acme, anchors):
    with tenant_context(acme):
        app = application(tckn=TCKN)
        with pytest.raises(PortalError) as caught:
            esign.esign_check_document(app, pades_sign(pki().other))
        assert caught.value.message == esign.TCKN_MISMATCH
        app.refresh_from_db()
        assert app.status == ApplicationStatus.RECEIVED
        assert app.identity_verified_at is None
        assert not ApplicationDocument.objects.filter(application=app).exists()
        assert [e["reason"] for e in _events(app) if e["event"] == "esign_refused"] == [
            "tckn_mismatch"
        ]
    with translation.override("tr"):
        assert "eşleşmiyor" in str(esign.TCKN_MISMATCH)


def test_the_other_persons_signature_verifies_for_their_own_tckn(anchors):
    assert esign.signature_verify(data=pades_sign(pki().other), tckn=OTHER_TCKN).tckn == (
        OTHER_TCKN
    )


def test_a_pdf_changed_after_signing_is_refused(anchors):
    signed = pades_sign(pki().signer)
    assert esign_ca.PAGE_TEXT in signed
    altered = signed.replace(b"erisim hakki", b"silme hakki!")
    assert len(altered) == len(signed)
    assert _refusal(altered).message == esign.BROKEN


def test_a_page_replaced_by_a_later_revision_is_refused(anchors):
    writer = IncrementalPdfFileWriter(BytesIO(pades_sign(pki().signer)))
    page = writer.root["/Pages"]["/Kids"][0]
    page["/Contents"] = writer.add_object(
        generic.StreamObject(stream_data=b"BT /F1 12 Tf 72 720 Td (Silme) Tj ET")
    )
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    assert _refusal(out.getvalue()).message == esign.NOT_WHOLE


def test_a_detached_signature_over_other_content_is_refused(anchors):
    signature = cms_sign(pki().signer, b"erisim")
    assert _refusal(signature, content=b"silme").message == esign.BROKEN
    assert _refusal(signature).message == esign.CONTENT_MISSING


def test_a_certificate_from_an_untrusted_ca_is_refused(anchors):
    assert _refusal(pades_sign(pki().untrusted)).message == esign.UNTRUSTED
    assert _refusal(cms_sign(pki().untrusted, b"x"), content=b"x").message == esign.UNTRUSTED


def test_an_expired_certificate_is_refused(anchors):
    assert _refusal(pades_sign(pki().expired)).message == esign.EXPIRED


def test_a_certificate_not_meant_for_signatures_is_refused(anchors):
    assert _refusal(pades_sign(pki().not_for_signing)).message == esign.KEY_USAGE


def test_a_certificate_without_a_tckn_is_refused(anchors):
    assert _refusal(pades_sign(pki().no_tckn)).message == esign.NO_TCKN


def test_a_file_that_is_not_a_signed_document_is_refused(anchors):
    assert _refusal(pdf_blank()).message == esign.NOT_SIGNED
    assert _refusal(b"PK\x03\x04 a zip file").message == esign.NOT_SIGNED
    assert _refusal(b"\x30\x82\x01\x00 not cms").message == esign.NOT_SIGNED
    assert _refusal(b"%PDF-1.7\n garbage").message == esign.UNREADABLE


def test_without_trust_anchors_every_signature_is_refused_clearly(anchors):
    anchors.is_active = False
    anchors.save(update_fields=["is_active"])
    refusal = _refusal(pades_sign(pki().signer))
    assert refusal.message == esign.NO_ANCHORS
    assert refusal.code == "no_anchors"
    assert not esign.esign_available()


def test_an_anchor_bundle_in_the_settings_is_trusted_too(settings, tmp_path):
    bundle = tmp_path / "anchors.pem"
    bundle.write_text(pki().rogue_root.pem + pki().root.pem)
    settings.ESIGN_TRUST_ANCHORS_FILE = str(bundle)
    assert esign.signature_verify(data=pades_sign(pki().untrusted), tckn=TCKN).tckn == TCKN


def test_staff_registering_an_e_signed_application_verify_it_with_the_same_check(acme, anchors):
    with tenant_context(acme):
        officer = User.objects.get(username="colleague")
        app = application(tckn=TCKN, channel="e_signature", actor=officer)
        with pytest.raises(PortalError):
            esign.esign_check_document(app, pades_sign(pki().other), actor=officer)

        esign.esign_check_document(app, pades_sign(pki().signer), actor=officer)

        app.refresh_from_db()
        assert app.status == ApplicationStatus.IN_PROGRESS
        entries = AuditEntry.objects.filter(object_id=str(app.pk)).order_by("pk")
        refused = [e for e in entries if e.detail.get("event") == "esign_refused"]
        assert refused[0].actor_id == officer.pk
        document = ApplicationDocument.objects.get(application=app)
        assert document.uploaded_by == officer
        # a second attempt on a verified application is refused: it waits for nothing
        with pytest.raises(PortalError) as caught:
            esign.esign_check_document(app, pades_sign(pki().signer), actor=officer)
        assert caught.value.message == esign.NOT_ELIGIBLE
        assert ApplicationDocument.objects.filter(application=app).count() == 1


def test_staff_who_stored_the_document_already_verify_without_a_second_copy(acme, anchors):
    with tenant_context(acme):
        officer = User.objects.get(username="colleague")
        auditor = User.objects.get(username="auditor")
        signed = pades_sign(pki().signer)
        app = application(tckn=TCKN, channel="mobile_signature", actor=officer)
        services.document_store(app, kind="signed", name="imzali.pdf", content=signed,
                                content_type="application/pdf", actor=officer)  # fmt: skip
        with pytest.raises(PortalError) as caught:
            esign.esign_check_document(app, signed, actor=auditor, store_document=False)
        assert caught.value.status == 403

        esign.esign_check_document(app, signed, actor=officer, store_document=False)

        app.refresh_from_db()
        assert app.status == ApplicationStatus.IN_PROGRESS
        assert ApplicationDocument.objects.filter(application=app).count() == 1


def test_a_foreign_applicant_without_tckn_cannot_match_a_signature(acme, anchors):
    with tenant_context(acme):
        app = services.application_register(
            channel="web",
            received_at=application(tckn=TCKN).received_at,
            rights=["a"],
            applicant={"first_name": "John", "last_name": "Smith", "email": "j@example.com"},
            identity=services.Identity(nationality="DE", foreign_id="C01X00T47"),
            details="",
        )
        with pytest.raises(PortalError) as caught:
            esign.esign_check_document(app, pades_sign(pki().signer))
        assert caught.value.message == esign.NO_APPLICANT_TCKN


def test_validating_loads_no_network_client_of_the_pypi_requests_package():
    """Our app is named `requests`: pyHanko's optional requests-based fetchers must stay
    unloaded, and the name must still resolve to our app."""
    script = (
        "import sys, pyhanko.sign.validation, pyhanko.sign.signers, pyhanko_certvalidator;"
        "import pyhanko.pdf_utils.reader;"
        "print(sys.modules.get('requests') and sys.modules['requests'].__file__);"
        "print(sorted(m for m in sys.modules if 'requests_' in m))"
    )
    output = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert output[0] in ("None", str(ROOT / "requests" / "__init__.py"))
    assert output[1] == "[]"


def test_a_certificate_revoked_on_the_embedded_crl_is_refused(anchors):
    crl = esign_ca.crl_of(pki().intermediate, [pki().revoked])
    revoked = esign_ca.cms_with_crl(cms_sign(pki().revoked, b"basvuru"), crl)
    assert _refusal(revoked, content=b"basvuru").message == esign.REVOKED

    # the same CRL, for a certificate it does not list: checked and accepted
    good = esign_ca.cms_with_crl(cms_sign(pki().signer, b"basvuru"), crl)
    result = esign.signature_verify(data=good, detached_content=b"basvuru", tckn=TCKN)
    assert result.revocation == "checked"
    # nothing is fetched: without embedded revocation data the check is recorded as not made
    unchecked = cms_sign(pki().revoked, b"basvuru")
    result = esign.signature_verify(data=unchecked, detached_content=b"basvuru", tckn=TCKN)
    assert result.revocation == "not_checked"


def test_a_pdf_whose_security_store_lists_the_signer_as_revoked_is_refused(anchors):
    crl = esign_ca.crl_of(pki().intermediate, [pki().revoked])
    revoked = esign_ca.pades_with_crl(pades_sign(pki().revoked), crl)
    assert _refusal(revoked).message == esign.REVOKED

    # a CRL added in a later revision is not a change to what was signed
    good = esign_ca.pades_with_crl(pades_sign(pki().signer), crl)
    assert esign.signature_verify(data=good, tckn=TCKN).revocation == "checked"


def test_damaged_signed_files_are_refused_never_crash(anchors):
    """Bytes flipped, cut out or inserted anywhere: a refusal with a reason, never a 500."""
    rng = random.Random(20261206)
    originals = [
        pades_sign(pki().signer),
        cms_sign(pki().signer, b"basvuru"),
        cms_sign(pki().signer, b"basvuru", detached=False, armored=True),
    ]
    outcomes = set()
    for round_ in range(150):
        damaged = bytearray(originals[round_ % 3])
        for _ in range(rng.randint(1, 5)):
            at = rng.randrange(len(damaged))
            choice = rng.random()
            if choice < 0.5:
                damaged[at] = rng.randrange(256)
            elif choice < 0.75:
                del damaged[at : at + rng.randint(1, 40)]
            else:
                damaged[at:at] = rng.randbytes(rng.randint(1, 16))
        try:
            esign.signature_verify(data=bytes(damaged), detached_content=b"basvuru", tckn=TCKN)
            outcomes.add("accepted")  # the damage hit padding or unsigned, unused bytes
        except PortalError as refusal:
            outcomes.add(refusal.code)
    known = {"accepted", "not_signed", "unreadable", "broken", "not_whole", "untrusted",
             "content_missing", "expired", "key_usage", "no_tckn", "tckn_mismatch"}  # fmt: skip
    assert {"not_signed", "unreadable"} <= outcomes <= known


def test_staff_verify_from_the_application_page_by_the_stored_documents_signature(
    acme, anchors, owner
):
    from django.urls import reverse

    from tests.conftest import portal_client

    with tenant_context(acme):
        officer = User.objects.get(username="colleague")
        app = application(tckn=TCKN, channel="e_signature", actor=officer)
        forged = services.document_store(
            app, kind="scan", name="baskasi.pdf", content=pades_sign(pki().other),
            content_type="application/pdf", actor=officer,
        )  # fmt: skip
        signed = services.document_store(
            app, kind="signed", name="imzali.pdf", content=pades_sign(pki().signer),
            content_type="application/pdf", actor=officer,
        )  # fmt: skip
        page = reverse("requests:detail", args=[app.reference])
        urls = {
            doc: reverse("requests:document_esign", args=[app.reference, doc.uuid])
            for doc in (forged, signed)
        }
    assert urls[signed] in owner.get(page).content.decode()
    client = portal_client(acme, "auditor")
    assert client.post(urls[signed]).status_code == 403

    refused = owner.post(urls[forged], follow=True)
    assert refused.status_code == 200
    with tenant_context(acme):
        app.refresh_from_db()
        assert app.identity_verified_at is None and app.status == ApplicationStatus.RECEIVED

    owner.post(urls[signed])
    with tenant_context(acme):
        app.refresh_from_db()
        assert app.identity_method == "e_signature" and app.status == ApplicationStatus.IN_PROGRESS
        assert ApplicationDocument.objects.filter(application=app).count() == 2
    assert urls[signed] not in owner.get(page).content.decode()
