"""Encryption formats as they were when a migration was written, frozen for that migration.

Migrations must not import code that keeps changing; the data migrations of the
register read the first format (values bound to their subject only, subject keys
wrapped by the raw tenant key) and write the second (values bound to their
place, subject keys wrapped by a derived key). The migration loader skips
modules whose names start with an underscore.
"""

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

NONCE = 12
FORMAT_2 = b"\x02"


def _hkdf(key: bytes, info: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info.encode()).derive(key)


def tenant_key(*, wrapped: bytes, schema: str, master_key_id: str) -> bytes:
    keys = {}
    for entry in settings.PORTAL_MASTER_KEYS:
        key_id, _, encoded = entry.partition(":")
        keys[key_id] = base64.urlsafe_b64decode(encoded.encode())
    wrapping = _hkdf(keys[master_key_id], f"kvkk-tenant-key:{schema}")
    wrapped = bytes(wrapped)
    return AESGCM(wrapping).decrypt(wrapped[:NONCE], wrapped[NONCE:], schema.encode())


def v1_open(key: bytes, sealed: bytes, subject_uuid: str) -> bytes:
    sealed = bytes(sealed)
    return AESGCM(key).decrypt(sealed[:NONCE], sealed[NONCE:], subject_uuid.encode())


def v2_wrap(tenant: bytes, data_key: bytes, *, schema: str, subject_uuid: str) -> bytes:
    nonce = os.urandom(NONCE)
    aad = f"kvkk|2|{schema}|subject-key|{subject_uuid}".encode()
    return (
        FORMAT_2
        + nonce
        + AESGCM(_hkdf(tenant, "kvkk-subject-key-wrap")).encrypt(nonce, data_key, aad)
    )


def v2_unwrap(tenant: bytes, wrapped: bytes, *, schema: str, subject_uuid: str) -> bytes:
    wrapped = bytes(wrapped)
    aad = f"kvkk|2|{schema}|subject-key|{subject_uuid}".encode()
    return AESGCM(_hkdf(tenant, "kvkk-subject-key-wrap")).decrypt(
        wrapped[1 : 1 + NONCE], wrapped[1 + NONCE :], aad
    )


def v2_seal(data_key: bytes, plaintext: bytes, *, schema, table, column, row_id, subject_uuid):
    nonce = os.urandom(NONCE)
    aad = f"kvkk|2|{schema}|{table}|{column}|{row_id}|{subject_uuid}".encode()
    return FORMAT_2 + nonce + AESGCM(data_key).encrypt(nonce, plaintext, aad)
