"""Reading a trust anchor's certificate for the e-signature check (requests.esign)."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

NOT_PEM = _("Paste one certificate in PEM form (-----BEGIN CERTIFICATE----- … END line).")
NOT_CA = _("This certificate is not a certificate authority's (basic constraints CA=false).")
ONE_ONLY = _("Paste exactly one certificate; add each authority as its own trust anchor.")


@dataclass(frozen=True)
class AnchorFacts:
    fingerprint: str
    subject: str
    not_after: datetime


def anchor_certificate_read(text: str) -> AnchorFacts:
    """The facts of one CA certificate in PEM; ``ValidationError`` on the field otherwise."""
    data = (text or "").strip().encode()
    if data.count(b"-----BEGIN CERTIFICATE-----") > 1:
        raise ValidationError({"certificate_pem": ONE_ONLY})
    try:
        certificate = x509.load_pem_x509_certificate(data)
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        raise ValidationError({"certificate_pem": NOT_CA}) from None
    except ValueError:
        raise ValidationError({"certificate_pem": NOT_PEM}) from None
    if not constraints.value.ca:
        raise ValidationError({"certificate_pem": NOT_CA})
    return AnchorFacts(
        fingerprint=hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest(),
        subject=certificate.subject.rfc4514_string()[:500],
        not_after=certificate.not_valid_after_utc,
    )
