"""Envelope encryption of personal data, and blind indexes for look-ups.

    master secret (settings, per deployment)
      └─ HKDF(schema) → wraps the tenant key       (TenantKey row, one per schema)
           ├─ wraps each data subject's data key  (SubjectKey row)
           │    └─ AES-GCM encrypts every value of that subject
           └─ HKDF("blind-index") → HMAC key for identifier look-ups

Key rows live in the key store (KEY_STORE_TABLES), which is backed up apart
from the data. Deleting a subject's key row makes every copy of its values —
history tables and data backups included — undecryptable ("crypto-shredding"). Rotating the
master secret re-wraps tenant keys only; nothing else is re-encrypted.
This module is the only code that encrypts or decrypts personal values.
"""

import base64
import hashlib
import hmac
import os
import threading
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone

from subjects.models import SubjectKey, TenantKey

KEY_BYTES = 32
NONCE_BYTES = 12


class KeyDestroyed(Exception):
    """The subject's data key is gone: its values can no longer be read by anyone."""


def master_keys() -> dict[str, bytes]:
    """``PORTAL_MASTER_KEYS`` as {id: key}; the first one listed is current."""
    keys: dict[str, bytes] = {}
    for entry in settings.PORTAL_MASTER_KEYS:
        key_id, _, encoded = entry.partition(":")
        raw = base64.urlsafe_b64decode(encoded.encode())
        if not key_id or len(raw) != KEY_BYTES:
            raise ImproperlyConfigured(
                "PORTAL_MASTER_KEYS entries must be id:<32 bytes, urlsafe base64>"
            )
        keys[key_id] = raw
    if not keys:
        raise ImproperlyConfigured("PORTAL_MASTER_KEYS is empty")
    return keys


def current_master_key_id() -> str:
    return next(iter(master_keys()))


def _hkdf(key: bytes, info: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info.encode()).derive(
        key
    )


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    return AESGCM(key).decrypt(bytes(sealed[:NONCE_BYTES]), bytes(sealed[NONCE_BYTES:]), aad)


def wrap_tenant_key(tenant_key: bytes, *, schema: str, master_key_id: str) -> bytes:
    wrapping = _hkdf(master_keys()[master_key_id], f"kvkk-tenant-key:{schema}")
    return _seal(wrapping, tenant_key, schema.encode())


def unwrap_tenant_key(wrapped: bytes, *, schema: str, master_key_id: str) -> bytes:
    keys = master_keys()
    if master_key_id not in keys:
        raise ImproperlyConfigured(
            f"Master key {master_key_id!r} of schema {schema!r} is not configured"
        )
    wrapping = _hkdf(keys[master_key_id], f"kvkk-tenant-key:{schema}")
    return _open(wrapping, wrapped, schema.encode())


@dataclass(frozen=True)
class Keyring:
    """One schema's unwrapped tenant key and what derives from it."""

    schema: str
    tenant_key: bytes
    index_key: bytes

    def new_subject_key(self, subject_uuid: str) -> tuple["SubjectCipher", bytes]:
        """A cipher under a fresh data key, and the wrapped key to store with the subject."""
        data_key = AESGCM.generate_key(bit_length=256)
        return SubjectCipher(data_key, subject_uuid), _seal(
            self.tenant_key, data_key, subject_uuid.encode()
        )

    def subject_cipher(self, wrapped_key: bytes, subject_uuid: str) -> "SubjectCipher":
        return SubjectCipher(
            _open(self.tenant_key, wrapped_key, subject_uuid.encode()), subject_uuid
        )

    def seal(self, data: bytes, label: str) -> bytes:
        """Encrypt transient tenant data (an uploaded CSV awaiting import) under the tenant key."""
        return _seal(_hkdf(self.tenant_key, "kvkk-staging"), data, label.encode())

    def unseal(self, sealed: bytes, label: str) -> bytes:
        return _open(_hkdf(self.tenant_key, "kvkk-staging"), bytes(sealed), label.encode())

    def blind_index(self, kind: str, normalized: str) -> bytes:
        """Keyed hash of an identifier: equal inputs match, the value cannot be recovered."""
        return hmac.new(self.index_key, f"{kind}\x1f{normalized}".encode(), hashlib.sha256).digest()


class SubjectCipher:
    """Encrypts and decrypts the values of one data subject with its data key."""

    def __init__(self, data_key: bytes, subject_uuid: str):
        self._aead = AESGCM(data_key)
        self._aad = subject_uuid.encode()

    def encrypt(self, value: str | bytes) -> bytes:
        raw = value.encode() if isinstance(value, str) else value
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, raw, self._aad)

    def decrypt_bytes(self, sealed: bytes) -> bytes:
        try:
            return self._aead.decrypt(
                bytes(sealed[:NONCE_BYTES]), bytes(sealed[NONCE_BYTES:]), self._aad
            )
        except InvalidTag as exc:
            raise KeyDestroyed(self._aad.decode()) from exc

    def decrypt(self, sealed: bytes) -> str:
        return self.decrypt_bytes(sealed).decode()


_cache_lock = threading.Lock()
_keyrings: dict[str, Keyring] = {}


def tenant_key_create() -> None:
    """Give the current schema its tenant key (at provisioning; idempotent)."""
    if TenantKey.objects.exists():
        return
    schema, key_id = connection.schema_name, current_master_key_id()
    wrapped = wrap_tenant_key(
        AESGCM.generate_key(bit_length=256), schema=schema, master_key_id=key_id
    )
    TenantKey.objects.create(master_key_id=key_id, wrapped_key=wrapped)


def keyring() -> Keyring:
    """The current schema's keyring (its tenant key is created at provisioning).

    Cached per process: rotating the master secret re-wraps the tenant key but
    does not change it, so cached keyrings stay valid.
    """
    schema = connection.schema_name
    with _cache_lock:
        if schema in _keyrings:
            return _keyrings[schema]
    row = TenantKey.objects.get()
    tenant_key = unwrap_tenant_key(
        bytes(row.wrapped_key), schema=schema, master_key_id=row.master_key_id
    )
    ring = Keyring(
        schema=schema, tenant_key=tenant_key, index_key=_hkdf(tenant_key, "kvkk-blind-index")
    )
    with _cache_lock:
        _keyrings[schema] = ring
    return ring


def subject_cipher_of(subject) -> "SubjectCipher | None":
    """The cipher of a stored subject (a DataSubject), or None once its key is destroyed."""
    wrapped = (
        SubjectKey.objects.filter(subject_id=subject.pk)
        .values_list("wrapped_key", flat=True)
        .first()
    )
    if wrapped is None:
        return None
    return keyring().subject_cipher(bytes(wrapped), str(subject.uuid))


def forget_keyrings() -> None:
    """Drop cached keyrings (after a tenant's keys are destroyed, and in tests)."""
    with _cache_lock:
        _keyrings.clear()


def tenant_key_rewrap() -> tuple[str, str] | None:
    """Re-wrap the current schema's tenant key under the current master secret.

    Only the wrapping changes; the tenant key, the subject keys and every
    ciphertext stay as they are, so the portal keeps serving meanwhile.
    Returns (old id, new id), or None when nothing had to change.
    """
    schema, current = connection.schema_name, current_master_key_id()
    row = TenantKey.objects.select_for_update().first()
    if row is None or row.master_key_id == current:
        return None
    tenant_key = unwrap_tenant_key(
        bytes(row.wrapped_key), schema=schema, master_key_id=row.master_key_id
    )
    old = row.master_key_id
    row.wrapped_key = wrap_tenant_key(tenant_key, schema=schema, master_key_id=current)
    row.master_key_id = current
    row.rotated_at = timezone.now()
    row.save(update_fields=["wrapped_key", "master_key_id", "rotated_at"])
    return old, current
