"""The platform's Ed25519 key, which signs the processing log's checkpoints.

The private key is the 32-byte seed in settings.PORTAL_SIGNING_KEY (base64);
development and tests use a fixed key that production refuses. The public key
is published on the platform host, so anyone holding a checkpoint can check it
without trusting the database it came from.
"""

import base64
import binascii
import functools
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@functools.cache
def _private_key(encoded: str) -> Ed25519PrivateKey:
    try:
        seed = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise ImproperlyConfigured("PORTAL_SIGNING_KEY is not base64.") from exc
    if len(seed) != 32:
        raise ImproperlyConfigured(
            "PORTAL_SIGNING_KEY must be 32 bytes (base64 of an Ed25519 seed)."
        )
    return Ed25519PrivateKey.from_private_bytes(seed)


def private_key() -> Ed25519PrivateKey:
    return _private_key(settings.PORTAL_SIGNING_KEY)


def public_key() -> Ed25519PublicKey:
    return private_key().public_key()


def public_key_raw() -> bytes:
    return public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_pem() -> str:
    return (
        public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def fingerprint() -> str:
    """SHA-256 of the raw public key, hex: what a reader compares with the published one."""
    return hashlib.sha256(public_key_raw()).hexdigest()


def key_id() -> str:
    """A short name of the key, stored with each checkpoint (the fingerprint's first 16 digits)."""
    return fingerprint()[:16]


def sign(message: bytes) -> str:
    return private_key().sign(message).hex()


def signature_valid(message: bytes, signature: str) -> bool:
    try:
        public_key().verify(bytes.fromhex(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True
