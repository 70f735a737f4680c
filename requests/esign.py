"""Identity verification by an electronically signed application (e-imzalı başvuru).

The Communiqué on applications to the controller (Art. 5) accepts an application signed
with a secure electronic signature (güvenli elektronik imza, Law 5070) or a mobile
signature: the signature itself proves who the applicant is. Two forms are accepted:

- PAdES: a PDF with an embedded signature that covers the whole document;
- CAdES/CMS: a ``.p7s`` (DER or PEM) over a file sent beside it (detached), or with the
  file inside it (attached).

Validation is cryptographic (pyHanko) and offline:

- the chain must lead to a trust anchor that the platform admin configured (tenants'
  ``ESignTrustAnchor``, read through a provider registered at start-up, since this app
  may not import ``tenants``), or to one in ``settings.ESIGN_TRUST_ANCHORS_FILE``;
- nothing is fetched from the network (``allow_fetching=False``). Revocation is checked
  against what the signature carries (CRLs and OCSP responses in the CMS, Adobe's
  revocation-info attribute, a PDF's DSS): a certificate listed there as revoked is
  refused. Without embedded revocation data the check is a soft fail, and the result
  records ``revocation="not_checked"`` so staff can see the check was not made;
- the certificate must be valid now: with no trusted timestamp the signing time is only
  the signer's claim, so an expired certificate is refused;
- the signer certificate needs the non-repudiation key usage (qualified signing
  certificates carry it);
- the subject's ``serialNumber`` must hold the applicant's TCKN. Turkish qualified
  certificates put it there as the 11 digits; the forms ``TCKN12345678901``,
  ``TR12345678901`` and ETSI EN 319 412-1's ``IDCTR-12345678901`` are read too.
"""

import asyncio
import contextlib
import hashlib
import logging
import re
import struct
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from asn1crypto import cms, crl, ocsp, pem
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import UnsupportedAlgorithm
from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.general import NonexistentAttributeError, find_unique_cms_attribute
from pyhanko.sign.validation import (
    async_validate_cms_signature,
    async_validate_detached_cms,
    validate_pdf_signature,
)
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError, SignatureValidationError
from pyhanko.sign.validation.status import SignatureCoverageLevel, StandardCMSSignatureStatus
from pyhanko_certvalidator import ValidationContext

from config.client_ip import client_ip
from config.errors import PortalError
from requests.models import Application, ApplicationDocument, ApplicationStatus, IdentityMethod
from requests.services import applicant_of, document_store, identity_verified, log, role_check

logger = logging.getLogger(__name__)
# pyHanko logs each failed check with the signer's subject (name and TCKN) and a traceback:
# personal data that must not reach the application logs. Reasons go to the processing log.
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)

NOT_SIGNED = _("The file is not an electronically signed document (PAdES PDF or CMS/.p7s).")
UNREADABLE = _("The signed document cannot be read; it may be damaged or encrypted.")
CONTENT_MISSING = _("This signature (.p7s) is detached: upload the signed file beside it as well.")
BROKEN = _("The signature is broken: the document was changed after it was signed.")
NOT_WHOLE = _("The signature does not cover the whole document: it was changed after signing.")
UNTRUSTED = _(
    "The signer's certificate does not lead to a certificate authority the platform trusts."
)
EXPIRED = _("The signer's certificate has expired or is not yet valid.")
REVOKED = _("The signer's certificate has been revoked.")
KEY_USAGE = _("The signer's certificate is not a signing certificate (non-repudiation).")
NO_TCKN = _("The signer's certificate carries no T.C. identity number (serialNumber).")
TCKN_MISMATCH = _("The signer's T.C. identity number does not match the applicant's.")
NO_ANCHORS = _(
    "Electronic signatures cannot be checked yet: the platform has no trust anchors "
    "configured. Ask the platform administrator to add the certificate authorities."
)
NOT_ELIGIBLE = _("This application does not wait for identity verification.")
NO_APPLICANT_TCKN = _("The applicant gave no T.C. identity number, so an e-signature cannot match.")

# serialNumber forms that carry a TCKN: bare digits, TCKN/TR prefixes, ETSI's "IDCTR-".
_TCKN_IN_SERIAL = re.compile(r"^(?:IDCTR-|TCKN[:\s-]?|TR[:\s-]?)?(\d{11})$", re.IGNORECASE)
_PEM_CMS_LABELS = {"PKCS7", "CMS"}
# What the PDF and ASN.1 parsers raise on a malformed or hostile upload (found by mutating
# signed files): all of them mean "cannot be read", never a server error.
_MALFORMED = (
    PdfError,
    SignatureValidationError,
    ValueError,
    TypeError,
    LookupError,
    AttributeError,
    NotImplementedError,
    OverflowError,
    RecursionError,
    zlib.error,
    struct.error,
    AssertionError,
    UnsupportedAlgorithm,
)

# ``TrustAnchorsProvider`` returns PEM or DER certificates. The platform (tenants) registers
# one at start-up (tenants.apps), because this app may not import the platform's models.
TrustAnchorsProvider = Callable[[], Iterable[bytes | str]]
_providers: list[TrustAnchorsProvider] = []


def trust_anchors_provider_register(provider: TrustAnchorsProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def _certificates_from(blob: bytes | str) -> list[asn1_x509.Certificate]:
    data = blob.encode() if isinstance(blob, str) else bytes(blob)
    if pem.detect(data):
        return [
            asn1_x509.Certificate.load(der)
            for kind, _headers, der in pem.unarmor(data, multiple=True)
            if kind == "CERTIFICATE"
        ]
    return [asn1_x509.Certificate.load(data)]


def trust_anchors() -> list[asn1_x509.Certificate]:
    """The active trust anchors: the platform admin's, then the settings' PEM bundle."""
    anchors: list[asn1_x509.Certificate] = []
    for provider in _providers:
        for blob in provider():
            anchors.extend(_certificates_from(blob))
    if settings.ESIGN_TRUST_ANCHORS_FILE:
        anchors.extend(_certificates_from(Path(settings.ESIGN_TRUST_ANCHORS_FILE).read_bytes()))
    unique = {anchor.sha256: anchor for anchor in anchors}
    return list(unique.values())


@dataclass(frozen=True)
class EsignResult:
    """Who signed, as the validated certificate says."""

    signer_name: str
    tckn: str
    signed_at: datetime | None
    fingerprint: str  # SHA-256 of the signer certificate, hex
    form: str  # "pades" or "cades"
    issuer: str
    # "checked" when the signature carried revocation data; "not_checked" otherwise.
    revocation: str


def _refuse(message, code: str) -> PortalError:
    return PortalError(message, code=code, field="signed_file")


def tckn_in_certificate(certificate: asn1_x509.Certificate) -> str:
    """The TCKN in the subject's serialNumber, or "" when it holds none."""
    value = certificate.subject.native.get("serial_number") or ""
    if isinstance(value, list):  # several serialNumber attributes: one must be a TCKN
        found = [match.group(1) for item in value if (match := _TCKN_IN_SERIAL.match(item))]
        return found[0] if len(set(found)) == 1 else ""
    match = _TCKN_IN_SERIAL.match(value.strip())
    return match.group(1) if match else ""


def _cms_signed_data(data: bytes) -> cms.SignedData | None:
    """The SignedData of a DER or PEM CMS, or None if the bytes are not one."""
    if pem.detect(data):
        try:
            kind, _headers, data = pem.unarmor(data)
        except ValueError:
            return None
        if kind not in _PEM_CMS_LABELS:
            return None
    if not data.startswith(b"\x30"):
        return None
    try:
        info = cms.ContentInfo.load(data, strict=True)
        if info["content_type"].native != "signed_data":
            return None
        signed_data = info["content"]
        signed_data.native  # noqa: B018 — parse it whole now: asn1crypto parses lazily
    except _MALFORMED:
        return None
    return signed_data


def is_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


def document_kind(data: bytes) -> str:
    """ "pdf", "cms", or "" for anything else (sniffed from the content, never the name)."""
    if is_pdf(data):
        return "pdf"
    if _cms_signed_data(data) is not None:
        return "cms"
    return ""


def _revocation_from_cms(signed_data: cms.SignedData, signed_attrs) -> tuple[list, list]:
    crls, ocsps = [], []
    for choice in signed_data["crls"] or []:
        if choice.name == "crl":
            crls.append(choice.chosen)
        elif choice.chosen["other_rev_info_format"].native == "ocsp_response":
            ocsps.append(choice.chosen["other_rev_info"])
    try:
        archival = find_unique_cms_attribute(signed_attrs, "adobe_revocation_info_archival")
    except (NonexistentAttributeError, ValueError):
        archival = None
    if archival is not None:
        crls.extend(archival["crl"] or [])
        ocsps.extend(archival["ocsp"] or [])
    return crls, ocsps


def _revocation_from_dss(reader: PdfFileReader) -> tuple[list, list]:
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return [], []
    crls = [crl.CertificateList.load(ref.get_object().data) for ref in dss.crls]
    ocsps = [ocsp.OCSPResponse.load(ref.get_object().data) for ref in dss.ocsps]
    return crls, ocsps


def _context(anchors, crls, ocsps) -> ValidationContext:
    # Offline: no OCSP or CRL fetching, no operating-system roots; soft-fail when the
    # signature carries no revocation data (see the module's docstring).
    return ValidationContext(
        trust_roots=anchors,
        allow_fetching=False,
        revocation_mode="soft-fail",
        crls=crls,
        ocsps=ocsps,
    )


def _judge(status: StandardCMSSignatureStatus) -> None:
    """Refuse a signature that is not intact, valid, current, unrevoked and trusted."""
    if not (status.intact and status.valid):
        raise _refuse(BROKEN, "broken")
    certificate = status.signing_cert
    now = timezone.now()
    if not (certificate.not_valid_before <= now <= certificate.not_valid_after):
        raise _refuse(EXPIRED, "expired")
    if status.revoked:
        raise _refuse(REVOKED, "revoked")
    usage = certificate.key_usage_value
    if usage is not None and "non_repudiation" not in usage.native:
        raise _refuse(KEY_USAGE, "key_usage")
    if not status.trusted:
        raise _refuse(UNTRUSTED, "untrusted")


def _pdf_status(data: bytes, anchors) -> tuple[StandardCMSSignatureStatus, str]:
    reader = PdfFileReader(BytesIO(data), strict=False)
    if reader.encrypted:
        raise _refuse(UNREADABLE, "unreadable")
    signatures = [
        signature for signature in reader.embedded_signatures if signature.sig_object_type == "/Sig"
    ]
    if not signatures:
        raise _refuse(NOT_SIGNED, "not_signed")
    # The last signature is the one over the document as uploaded.
    signature = signatures[-1]
    crls, ocsps = _revocation_from_dss(reader)
    more_crls, more_ocsps = _revocation_from_cms(
        signature.signed_data, signature.signer_info["signed_attrs"]
    )
    crls, ocsps = crls + more_crls, ocsps + more_ocsps
    status = validate_pdf_signature(signature, _context(anchors, crls, ocsps))
    _judge(status)
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
    )
    if not whole or status.docmdp_ok is False:
        raise _refuse(NOT_WHOLE, "not_whole")
    return status, "checked" if (crls or ocsps) else "not_checked"


def _cms_status(
    signed_data: cms.SignedData, detached_content: bytes | None, anchors
) -> tuple[StandardCMSSignatureStatus, str]:
    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        raise _refuse(UNREADABLE, "unreadable")
    crls, ocsps = _revocation_from_cms(signed_data, signer_infos[0]["signed_attrs"])
    context = _context(anchors, crls, ocsps)
    attached = signed_data["encap_content_info"]["content"].native is not None
    if attached:
        coroutine = async_validate_cms_signature(
            signed_data, status_cls=StandardCMSSignatureStatus, validation_context=context
        )
    elif detached_content is None:
        raise _refuse(CONTENT_MISSING, "content_missing")
    else:
        coroutine = async_validate_detached_cms(
            detached_content, signed_data, signer_validation_context=context
        )
    status = asyncio.run(coroutine)
    _judge(status)
    return status, "checked" if (crls or ocsps) else "not_checked"


def signature_verify(
    *, data: bytes, detached_content: bytes | None = None, tckn: str
) -> EsignResult:
    """Validate an e-signed document and that its signer holds ``tckn``.

    Raises ``PortalError`` (field "signed_file") with a code naming the failure:
    not_signed, unreadable, content_missing, broken, not_whole, expired, revoked,
    key_usage, untrusted, no_anchors, no_tckn, tckn_mismatch.
    """
    kind = document_kind(data)
    if not kind:
        raise _refuse(NOT_SIGNED, "not_signed")
    anchors = trust_anchors()
    if not anchors:
        raise _refuse(NO_ANCHORS, "no_anchors")
    try:
        if kind == "pdf":
            status, revocation = _pdf_status(data, anchors)
        else:
            status, revocation = _cms_status(_cms_signed_data(data), detached_content, anchors)
        certificate = status.signing_cert
        held = tckn_in_certificate(certificate)
    except _MALFORMED as exc:
        logger.info("Unreadable signed document (%s)", type(exc).__name__)
        raise _refuse(UNREADABLE, "unreadable") from None
    if not held:
        raise _refuse(NO_TCKN, "no_tckn")
    if held != tckn:
        raise _refuse(TCKN_MISMATCH, "tckn_mismatch")
    timestamp = getattr(status, "timestamp_validity", None)
    signed_at = (
        timestamp.timestamp
        if timestamp is not None and timestamp.trusted
        else getattr(status, "signer_reported_dt", None)
    )
    return EsignResult(
        signer_name=certificate.subject.native.get("common_name", "") or "",
        tckn=held,
        signed_at=signed_at,
        fingerprint=hashlib.sha256(certificate.dump()).hexdigest(),
        form="pades" if kind == "pdf" else "cades",
        issuer=certificate.issuer.human_friendly,
        revocation=revocation,
    )


def signer_name_masked(name: str) -> str:
    """ "Ayşe Yılmaz" → "A*** Y***": enough for staff to recognise, not to disclose."""
    return " ".join(f"{part[0]}***" for part in name.split() if part) or "***"


# Statuses in which an application still waits for its identity to be verified.
AWAITING_IDENTITY = (ApplicationStatus.RECEIVED, ApplicationStatus.IDENTITY_CHECK)


def esign_check_document(
    application: Application,
    data: bytes,
    detached_content: bytes | None = None,
    actor: Any = None,
    request=None,
    document_name: str = "",
    content_name: str = "",
    store_document: bool = True,
) -> EsignResult:
    """Verify the applicant's identity by an e-signed application (Communiqué Art. 5(3)).

    Used by the public e-signature page and by staff registering an application that came
    by secure electronic or mobile signature. On success the signed document is stored
    (kind "signed") and the application moves on (``identity_verified``); on failure
    nothing is stored, the exact reason goes to the processing log, and ``PortalError``
    is raised. Staff who already stored the document with the application pass
    ``store_document=False``.
    """
    if actor is not None:
        role_check(actor)
    tckn = (applicant_of(application).get("tckn") or "").strip()
    try:
        if application.identity_verified_at is not None or application.status not in (
            AWAITING_IDENTITY
        ):
            raise _refuse(NOT_ELIGIBLE, "not_eligible")
        if not tckn:
            raise _refuse(NO_APPLICANT_TCKN, "no_applicant_tckn")
        result = signature_verify(data=data, detached_content=detached_content, tckn=tckn)
    except PortalError as exc:
        log(
            application,
            event="esign_refused",
            actor=actor,
            actor_label="" if actor else "applicant",
            request=request,
            reason=exc.code,
        )
        raise
    files: list[tuple[bytes, str]] = []
    if store_document:
        name = document_name or f"{application.reference}-e-imza.{_extension(data)}"
        files.append((data, name))
        if detached_content is not None and result.form == "cades":
            content_name = content_name or f"{application.reference}-imzali-icerik.bin"
            files.append((detached_content, content_name))
    stored: list[ApplicationDocument] = []
    try:
        with transaction.atomic():
            for content, name in files:
                stored.append(
                    document_store(
                        application,
                        kind=ApplicationDocument.Kind.SIGNED,
                        name=name,
                        content=content,
                        content_type=sniffed_content_type(content),
                        actor=actor,
                        request=request,
                    )
                )
            log(
                application,
                event="esign_verified",
                actor=actor,
                actor_label="" if actor else "applicant",
                request=request,
                form=result.form,
                fingerprint=result.fingerprint,
                issuer=result.issuer,
                revocation=result.revocation,
                signed_at=result.signed_at.isoformat() if result.signed_at else "",
            )
            identity_verified(
                application,
                method=IdentityMethod.E_SIGNATURE,
                destination=f"e-imza: {signer_name_masked(result.signer_name)}",
                actor=actor,
                request=request,
            )
    except BaseException:
        for document in stored:  # the rows rolled back; their sealed files go too
            default_storage.delete(document.path)
        raise
    return result


def _extension(data: bytes) -> str:
    return "pdf" if is_pdf(data) else "p7s"


def sniffed_content_type(data: bytes) -> str:
    kind = document_kind(data)
    if kind == "pdf":
        return "application/pdf"
    if kind == "cms":
        return "application/pkcs7-signature"
    return "application/octet-stream"


# --- The public page (requests.views.esign) ------------------------------------------

# What the public sees for every failure that depends on the reference: an unknown
# reference, an application not waiting for verification, and each signature failure
# answer alike, so the page tells nobody which references exist or whose they are.
# The exact reason goes to the application's processing log (event "esign_refused").
NOT_VERIFIED = _(
    "Your identity could not be verified with this document. Check the reference, that the "
    "document is signed with your own secure electronic or mobile signature, and that it "
    "was not changed after signing."
)
TOO_MANY_ATTEMPTS = _("Too many attempts from here. Try again later.")
_ATTEMPT_KEY = "requests:esign-attempts:{kind}:{value}"


def _count(key: str) -> int:
    window = int(settings.ESIGN_ATTEMPT_WINDOW.total_seconds())
    # add() starts the window (with its expiry) only if none is running; incr() keeps it.
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # the window ended between add() and incr(): start a new one
        cache.set(key, 1, timeout=window)
        return 1


def esign_attempt_allowed(*, request, reference: str) -> bool:
    """Count an attempt from this address and for this reference; False once either is
    over its limit. Known and unknown references are counted alike. The cache keys carry
    the schema (django_tenants.cache.make_key), so limits hold per controller."""
    address = client_ip(request) or "unknown"
    digest = hashlib.sha256(reference.encode()).hexdigest()[:32]
    by_address = _count(_ATTEMPT_KEY.format(kind="address", value=address))
    by_reference = _count(_ATTEMPT_KEY.format(kind="reference", value=digest))
    return (
        by_address <= settings.ESIGN_ATTEMPTS_PER_ADDRESS
        and by_reference <= settings.ESIGN_ATTEMPTS_PER_REFERENCE
    )


def esign_verify_public(
    *,
    reference: str,
    data: bytes,
    detached_content: bytes | None,
    request,
    document_name: str = "",
    content_name: str = "",
) -> tuple[Application, EsignResult]:
    """The applicant's own verification on the public page; ``PortalError(NOT_VERIFIED)``
    for every failure tied to the reference (see ``NOT_VERIFIED``)."""
    application = Application.objects.filter(reference=reference).first()
    if application is None:
        # The same validation work as for a known reference, so the answer takes as long.
        with contextlib.suppress(PortalError):
            signature_verify(data=data, detached_content=detached_content, tckn="")
        logger.info("E-signature attempt for an unknown reference")
        raise PortalError(NOT_VERIFIED, code="not_verified")
    try:
        result = esign_check_document(
            application,
            data,
            detached_content=detached_content,
            request=request,
            document_name=document_name,
            content_name=content_name,
        )
    except PortalError as exc:
        raise PortalError(NOT_VERIFIED, code="not_verified") from exc
    return application, result


def esign_available() -> bool:
    """Whether any trust anchor is configured (else the page says e-signatures are off)."""
    return bool(trust_anchors())
