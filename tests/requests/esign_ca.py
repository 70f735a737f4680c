"""A test certificate authority and documents signed with pyHanko, for the e-signature tests.

Built once per test run (EC P-256 keys, quick): a root CA and an intermediate under it, the
signers the tests need, and a second, untrusted root. Each signer's subject carries a TCKN
in ``serialNumber``, as Turkish qualified certificates do.
"""

import asyncio
import datetime as dt
from dataclasses import dataclass
from functools import cache
from io import BytesIO

from asn1crypto import cms, crl, pem
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator.registry import SimpleCertificateStore

from tests.requests.helpers import tckn_make

# The applicant's TCKN, another person's, and the names on their certificates.
TCKN = tckn_make(9001)
OTHER_TCKN = tckn_make(9002)
SIGNER_NAME = "Ayşe Yılmaz"
# The text inside the test PDF's page, which the "altered" test changes.
PAGE_TEXT = b"BT /F1 12 Tf 72 720 Td (Basvuru: erisim hakki) Tj ET"


@dataclass(frozen=True)
class Party:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()


def _name(common_name: str, serial: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "TR")]
    if serial is not None:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _issue(
    subject: x509.Name,
    issuer: Party | None,
    *,
    ca: bool,
    days: tuple[int, int] = (-30, 365),
    signing: bool = True,
) -> Party:
    key = ec.generate_private_key(ec.SECP256R1())
    issuer_key = issuer.key if issuer else key
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=days[0]))
        .not_valid_after(now + dt.timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca and signing,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    )
    if not ca:
        # Qualified certificates name where their CRL is published; revocation is checked
        # only for certificates that do (nothing is fetched: the CRL must be embedded).
        builder = builder.add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[
                            x509.UniformResourceIdentifier("http://crl.test.invalid/sm.crl")
                        ],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
    certificate = builder.sign(issuer_key, hashes.SHA256())
    chain = (issuer.certificate, *issuer.chain) if issuer else ()
    return Party(key=key, certificate=certificate, chain=chain)


@dataclass(frozen=True)
class TestPKI:
    root: Party
    intermediate: Party
    signer: Party  # the applicant: TCKN in serialNumber as 11 digits
    signer_prefixed: Party  # the applicant again, serialNumber "TCKN<digits>"
    other: Party  # someone else, with OTHER_TCKN
    expired: Party  # the applicant, certificate expired yesterday
    no_tckn: Party  # a certificate without a serialNumber
    rogue_root: Party  # a CA nobody configured
    untrusted: Party  # the applicant's TCKN, issued by the rogue root
    revoked: Party  # the applicant, certificate on the intermediate's CRL
    not_for_signing: Party  # the applicant, a certificate without non-repudiation


@cache
def pki() -> TestPKI:
    root = _issue(_name("Test Kök ESHS"), None, ca=True, days=(-365, 3650))
    intermediate = _issue(_name("Test Nitelikli ESHS"), root, ca=True, days=(-365, 1825))
    rogue_root = _issue(_name("Sahte Kök"), None, ca=True, days=(-365, 3650))
    return TestPKI(
        root=root,
        intermediate=intermediate,
        signer=_issue(_name(SIGNER_NAME, TCKN), intermediate, ca=False),
        signer_prefixed=_issue(_name(SIGNER_NAME, f"TCKN{TCKN}"), intermediate, ca=False),
        other=_issue(_name("Mehmet Öztürk", OTHER_TCKN), intermediate, ca=False),
        expired=_issue(_name(SIGNER_NAME, TCKN), intermediate, ca=False, days=(-400, -1)),
        no_tckn=_issue(_name(SIGNER_NAME), intermediate, ca=False),
        rogue_root=rogue_root,
        untrusted=_issue(_name(SIGNER_NAME, TCKN), rogue_root, ca=False),
        revoked=_issue(_name(SIGNER_NAME, TCKN), intermediate, ca=False),
        not_for_signing=_issue(_name(SIGNER_NAME, TCKN), intermediate, ca=False, signing=False),
    )


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _signer(party: Party) -> signers.SimpleSigner:
    key = asn1_keys.PrivateKeyInfo.load(
        party.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return signers.SimpleSigner(
        signing_cert=_asn1(party.certificate),
        signing_key=key,
        cert_registry=SimpleCertificateStore.from_certs([_asn1(c) for c in party.chain]),
    )


def pdf_blank() -> bytes:
    """A one-page PDF with a line of text, as an application document."""
    writer = PdfFileWriter()
    font = writer.add_object(
        generic.DictionaryObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/Font"),
                generic.pdf_name("/Subtype"): generic.pdf_name("/Type1"),
                generic.pdf_name("/BaseFont"): generic.pdf_name("/Helvetica"),
            }
        )
    )
    stream = writer.add_object(generic.StreamObject(stream_data=PAGE_TEXT))
    page = generic.DictionaryObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/Page"),
            generic.pdf_name("/MediaBox"): generic.ArrayObject(
                [generic.NumberObject(n) for n in (0, 0, 595, 842)]
            ),
            generic.pdf_name("/Contents"): stream,
            generic.pdf_name("/Resources"): generic.DictionaryObject(
                {
                    generic.pdf_name("/Font"): generic.DictionaryObject(
                        {generic.pdf_name("/F1"): font}
                    )
                }
            ),
        }
    )
    writer.insert_page(page)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def pades_sign(party: Party, pdf: bytes | None = None) -> bytes:
    """The PDF signed by ``party`` (PAdES baseline, no timestamp)."""
    output = signers.sign_pdf(
        IncrementalPdfFileWriter(BytesIO(pdf or pdf_blank())),
        signers.PdfSignatureMetadata(field_name="Imza1", subfilter=SigSeedSubFilter.PADES),
        signer=_signer(party),
    )
    return output.getvalue()


def cms_sign(party: Party, content: bytes, *, detached: bool = True, armored: bool = False):
    """A CAdES/CMS signature over ``content`` (DER; PEM if ``armored``)."""
    info = asyncio.run(_signer(party).async_sign_general_data(content, "sha256", detached=detached))
    der = info.dump()
    return pem.armor("PKCS7", der) if armored else der


def crl_of(issuer: Party, revoked: list[Party]) -> bytes:
    """A current CRL (DER) of ``issuer`` listing ``revoked``."""
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(now - dt.timedelta(hours=1))
        .next_update(now + dt.timedelta(days=7))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), False
        )
        .add_extension(x509.CRLNumber(1), False)
    )
    for party in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(party.certificate.serial_number)
            .revocation_date(now - dt.timedelta(minutes=30))
            .build()
        )
    return builder.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def cms_with_crl(signature: bytes, crl_der: bytes) -> bytes:
    """The CMS with a CRL in its (unsigned) revocation data, as signing software embeds it."""
    info = cms.ContentInfo.load(signature)
    info["content"]["crls"] = cms.RevocationInfoChoices(
        [cms.RevocationInfoChoice(name="crl", value=crl.CertificateList.load(crl_der))]
    )
    return info.dump(force=True)


def pades_with_crl(signed: bytes, crl_der: bytes) -> bytes:
    """The signed PDF with a CRL added to its Document Security Store (a later revision)."""
    buffer = BytesIO(signed)
    signature = PdfFileReader(BytesIO(signed)).embedded_signatures[0]
    DocumentSecurityStore.add_dss(
        buffer, signature.pkcs7_content, crls=[crl.CertificateList.load(crl_der)]
    )
    return buffer.getvalue()
