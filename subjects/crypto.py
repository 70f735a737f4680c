"""Envelope encryption of personal data, and blind indexes for look-ups.

    master secret (settings, per deployment)
      └─ HKDF(schema) → wraps the tenant key          (ControllerKey row, key database)
           ├─ HKDF("subject-key-wrap") → wraps each subject's data key   (SubjectDataKey row)
           │    └─ AES-GCM seals every value of that subject, bound to its place
           ├─ HKDF("blind-index") → HMAC key for identifier look-ups
           └─ HKDF("staging") → seals uploads awaiting import

Key rows live only in the key database (settings.DATABASES["keys"]), which is
backed up apart from the data with a short retention. Deleting a subject's key
row makes every copy of its values — history tables and data backups
included — undecryptable ("crypto-shredding"). Rotating the master secret
re-wraps tenant keys only; nothing else is re-encrypted.

Every value is sealed with associated data naming where it lives: format
version, schema, table, column, row id and subject uuid. A value moved to
another field, row, table or controller no longer opens: it raises
ValueTampered, never mistaken for a destroyed key. A history row is a copy of
its row at some moment and is bound to that row (table of the model, row id).

This module is the only code that encrypts or decrypts personal values.
"""

import base64
import hashlib
import hmac
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from subjects.bulk import copy_rows
from subjects.models import (
    Consent,
    ControllerKey,
    DataSubject,
    Interaction,
    PersonalDataItem,
    SubjectDataKey,
    SubjectIdentifier,
)

KEY_BYTES = 32
NONCE_BYTES = 12
# The first byte of every sealed value and wrapped subject key: the format it was written in.
FORMAT = b"\x02"
KEYS_DATABASE = "keys"
_KEY_COLUMNS = ("schema_name", "subject_uuid", "wrapped_key", "created_at")


class KeyDestroyed(Exception):
    """The subject's data key is gone: its values can no longer be read by anyone."""


class ValueTampered(Exception):
    """A stored value does not open where it was found: changed, or moved from elsewhere."""

    def __init__(self, place: "Place", row_id: object):
        super().__init__(f"{place.table}.{place.column} of row {row_id} failed its integrity check")
        self.place = place
        self.row_id = row_id


@dataclass(frozen=True)
class Place:
    """Where a sealed value lives: a table and a column (a file is a column of its row too)."""

    table: str
    column: str

    @classmethod
    def of(cls, model, field_name: str) -> "Place":
        return cls(model._meta.db_table, model._meta.get_field(field_name).column)


# Every encrypted field of the register.
SUBJECT_NAME = Place.of(DataSubject, "name_enc")
IDENTIFIER_VALUE = Place.of(SubjectIdentifier, "value_enc")
ITEM_VALUE = Place.of(PersonalDataItem, "value_enc")
INTERACTION_TEXT = Place.of(Interaction, "text_enc")
ATTACHMENT_NAME = Place.of(Interaction, "attachment_name_enc")
ATTACHMENT_CONTENT = Place(Interaction._meta.db_table, "attachment_file")
CONSENT_EVIDENCE_NAME = Place.of(Consent, "evidence_name_enc")
CONSENT_EVIDENCE = Place(Consent._meta.db_table, "evidence_file")


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


class SubjectCipher:
    """Seals and opens the values of one data subject with its data key, each bound to its place."""

    def __init__(self, data_key: bytes, *, schema: str, subject_uuid: str):
        self._aead = AESGCM(data_key)
        self._schema = schema
        self._suffix = f"|{subject_uuid}".encode()
        self._prefixes: dict[Place, bytes] = {}

    def _aad(self, place: Place, row_id: object) -> bytes:
        prefix = self._prefixes.get(place)
        if prefix is None:
            prefix = self._prefixes[place] = (
                f"kvkk|2|{self._schema}|{place.table}|{place.column}|".encode()
            )
        return prefix + str(row_id).encode() + self._suffix

    def seal(self, value: str | bytes, place: Place, row_id: object) -> bytes:
        raw = value.encode() if isinstance(value, str) else value
        nonce = os.urandom(NONCE_BYTES)
        return FORMAT + nonce + self._aead.encrypt(nonce, raw, self._aad(place, row_id))

    def open_bytes(self, sealed: bytes, place: Place, row_id: object) -> bytes:
        sealed = bytes(sealed)
        if sealed[:1] != FORMAT:
            raise ValueTampered(place, row_id)
        try:
            return self._aead.decrypt(
                sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :], self._aad(place, row_id)
            )
        except InvalidTag as exc:
            raise ValueTampered(place, row_id) from exc

    def open(self, sealed: bytes, place: Place, row_id: object) -> str:
        return self.open_bytes(sealed, place, row_id).decode()


@dataclass(frozen=True)
class Keyring:
    """One schema's unwrapped tenant key and the keys derived from it."""

    schema: str
    tenant_key: bytes = field(repr=False)

    @property
    def index_key(self) -> bytes:
        return self._derived("kvkk-blind-index")

    @property
    def _wrap_key(self) -> bytes:
        # Subject keys are wrapped by a key of their own, not by the raw tenant key.
        return self._derived("kvkk-subject-key-wrap")

    def _derived(self, info: str) -> bytes:
        cache = self.__dict__.setdefault("_derived_keys", {})
        if info not in cache:
            cache[info] = _hkdf(self.tenant_key, info)
        return cache[info]

    def _wrap_aad(self, subject_uuid: str) -> bytes:
        return f"kvkk|2|{self.schema}|subject-key|{subject_uuid}".encode()

    def new_subject_key(self, subject_uuid: str) -> tuple[SubjectCipher, bytes]:
        """A cipher under a fresh data key, and that key wrapped for the key database."""
        data_key = AESGCM.generate_key(bit_length=256)
        wrapped = FORMAT + _seal(self._wrap_key, data_key, self._wrap_aad(subject_uuid))
        return SubjectCipher(data_key, schema=self.schema, subject_uuid=subject_uuid), wrapped

    def subject_cipher(self, wrapped_key: bytes, subject_uuid: str) -> SubjectCipher:
        wrapped_key = bytes(wrapped_key)
        if wrapped_key[:1] != FORMAT:
            raise ImproperlyConfigured(f"Subject key of {subject_uuid} has an unknown format")
        data_key = _open(self._wrap_key, wrapped_key[1:], self._wrap_aad(subject_uuid))
        return SubjectCipher(data_key, schema=self.schema, subject_uuid=subject_uuid)

    def seal(self, data: bytes, label: str) -> bytes:
        """Encrypt transient tenant data (an uploaded CSV awaiting import) under the tenant key."""
        return _seal(self._derived("kvkk-staging"), data, label.encode())

    def unseal(self, sealed: bytes, label: str) -> bytes:
        return _open(self._derived("kvkk-staging"), bytes(sealed), label.encode())

    def seal_bound(self, data: bytes, place: Place, row: object) -> bytes:
        """Encrypt a controller's record that belongs to no subject (an application's
        fields), bound to its table, column and row: moved elsewhere, it no longer opens."""
        return FORMAT + _seal(self._derived("kvkk-records"), data, self._bound_aad(place, row))

    def open_bound(self, sealed: bytes, place: Place, row: object) -> bytes:
        sealed = bytes(sealed)
        if sealed[:1] != FORMAT:
            raise ValueTampered(place, row)
        try:
            return _open(self._derived("kvkk-records"), sealed[1:], self._bound_aad(place, row))
        except InvalidTag as exc:
            raise ValueTampered(place, row) from exc

    def _bound_aad(self, place: Place, row: object) -> bytes:
        return f"kvkk|2|{self.schema}|{place.table}|{place.column}|{row}".encode()

    def blind_index(self, kind: str, normalized: str) -> bytes:
        """Keyed hash of an identifier: equal inputs match, the value cannot be recovered."""
        return hmac.new(self.index_key, f"{kind}\x1f{normalized}".encode(), hashlib.sha256).digest()


_cache_lock = threading.Lock()
_keyrings: dict[str, Keyring] = {}


def tenant_key_create() -> None:
    """Give the current schema its tenant key (at provisioning; idempotent)."""
    schema = connection.schema_name
    if ControllerKey.objects.filter(schema_name=schema).exists():
        return
    key_id = current_master_key_id()
    wrapped = wrap_tenant_key(
        AESGCM.generate_key(bit_length=256), schema=schema, master_key_id=key_id
    )
    ControllerKey.objects.create(schema_name=schema, master_key_id=key_id, wrapped_key=wrapped)


def keyring() -> Keyring:
    """The current schema's keyring (its tenant key is created at provisioning).

    Cached per process: rotating the master secret re-wraps the tenant key but
    does not change it, so cached keyrings stay valid.
    """
    schema = connection.schema_name
    with _cache_lock:
        if schema in _keyrings:
            return _keyrings[schema]
    row = ControllerKey.objects.get(schema_name=schema)
    tenant_key = unwrap_tenant_key(
        bytes(row.wrapped_key), schema=schema, master_key_id=row.master_key_id
    )
    ring = Keyring(schema=schema, tenant_key=tenant_key)
    with _cache_lock:
        _keyrings[schema] = ring
    return ring


def subject_keys_store(keys: Iterable[tuple[object, bytes]]) -> None:
    """Store new subjects' wrapped keys, committed in the key database before their data.

    A data transaction that later rolls back leaves a key for nobody, which opens nothing;
    the reverse order could leave data whose key was never stored.
    """
    schema, now = connection.schema_name, timezone.now()
    rows = ((schema, subject_uuid, wrapped, now) for subject_uuid, wrapped in keys)
    with transaction.atomic(using=KEYS_DATABASE):
        copy_rows(SubjectDataKey, _KEY_COLUMNS, rows, using=KEYS_DATABASE)


def subject_ciphers_of(subjects: Iterable) -> dict[str, SubjectCipher]:
    """Ciphers of stored subjects by uuid (one query); subjects whose key is destroyed are absent."""
    uuids = [str(subject.uuid) for subject in subjects]
    if not uuids:
        return {}
    ring = keyring()
    rows = SubjectDataKey.objects.filter(
        schema_name=ring.schema, subject_uuid__in=uuids
    ).values_list("subject_uuid", "wrapped_key")
    return {str(uuid): ring.subject_cipher(wrapped, str(uuid)) for uuid, wrapped in rows}


def subject_cipher_of(subject) -> SubjectCipher | None:
    """The cipher of a stored subject (a DataSubject), or None once its key is destroyed."""
    return subject_ciphers_of([subject]).get(str(subject.uuid))


def subject_key_exists(subject_uuid) -> bool:
    return SubjectDataKey.objects.filter(
        schema_name=connection.schema_name, subject_uuid=subject_uuid
    ).exists()


def subject_key_delete(subject_uuid) -> None:
    """Delete a subject's data key from the key database, committed at once (crypto-shredding)."""
    with transaction.atomic(using=KEYS_DATABASE):
        SubjectDataKey.objects.filter(
            schema_name=connection.schema_name, subject_uuid=subject_uuid
        ).delete()


def subject_keys_delete(subject_uuids) -> None:
    """Delete many subjects' data keys from the key database in one statement, committed."""
    with transaction.atomic(using=KEYS_DATABASE):
        SubjectDataKey.objects.filter(
            schema_name=connection.schema_name, subject_uuid__in=list(subject_uuids)
        ).delete()


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
    with transaction.atomic(using=KEYS_DATABASE):
        row = ControllerKey.objects.select_for_update().filter(schema_name=schema).first()
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
