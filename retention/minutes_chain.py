"""The hash chain and signature of destruction minutes, checkable without the portal.

Pure Python plus the `cryptography` package: no Django, no database. The portal's
verification (retention.minutes) and `manage.py minutes_verify --file` use it, and
scripts/minutes_verify.py repeats it for anyone holding only a downloaded JSON and the
public key the platform host publishes at /audit/signing-key.pem.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "kvkk-destruction-minutes/1"
GENESIS = "0" * 64
ALGORITHM = {
    "entry_hash": (
        "SHA-256, hex, of the UTF-8 bytes 'kvkk-minutes|1|<seq>|<prev_hash>|' followed by the "
        "body as canonical JSON: keys sorted, separators ',' and ':', non-ASCII characters "
        "kept as they are (ensure_ascii=False), UTF-8"
    ),
    "prev_hash": (
        "the entry_hash of the record before (seq - 1); 64 zeros for the first record ever; "
        "after a purge of expired minutes the first kept record's prev_hash is the anchor"
    ),
    "signature": "Ed25519 over the ASCII bytes of entry_hash (hex), hex-encoded",
    "key_id": "the first 16 hex digits of SHA-256 over the raw 32-byte public key",
    "public_key": "the PEM published by the platform host at /audit/signing-key.pem",
}

# Why a record fails; the portal shows each in words of its own.
MISSING = "missing"
PREV_HASH = "prev_hash"
ENTRY_HASH = "entry_hash"
SIGNATURE = "signature"
START = "start"

REASONS = {
    MISSING: "record is missing from the chain",
    PREV_HASH: "prev_hash does not match the record before",
    ENTRY_HASH: "entry_hash does not match the body (the body or the hash was changed)",
    SIGNATURE: "signature does not verify with the public key",
    START: "the chain does not start where it should (records before it are missing)",
}


def canonical(body: Mapping) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def minutes_hash(*, seq: int, prev_hash: str, body: Mapping) -> str:
    return hashlib.sha256(
        f"kvkk-minutes|1|{seq}|{prev_hash}|".encode() + canonical(body)
    ).hexdigest()


def anchor_message(*, purged_through_seq: int, anchor_hash: str) -> bytes:
    """What a purge signs: the last removed seq and its entry_hash, where the chain resumes."""
    return f"kvkk-minutes-purge|1|{purged_through_seq}|{anchor_hash}".encode()


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_load(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def signature_valid(public_key: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    try:
        public_key.verify(bytes.fromhex(signature), message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


@dataclass(frozen=True)
class ChainResult:
    """What a walk found: how many records held, and the first that did not (None if all did)."""

    records: int
    first_seq: int | None = None
    last_seq: int | None = None
    broken_seq: int | None = None
    problem: str = ""  # one of the REASONS keys
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None

    @property
    def reason(self) -> str:
        text = REASONS.get(self.problem, "")
        return f"{text} ({self.detail})" if self.detail else text


def record_check(record: Mapping, public_key: Ed25519PublicKey) -> str:
    """The problem of one record on its own (entry_hash, signature), or ''."""
    expected = minutes_hash(seq=record["seq"], prev_hash=record["prev_hash"], body=record["body"])
    if expected != record["entry_hash"]:
        return ENTRY_HASH
    if not signature_valid(public_key, record["entry_hash"].encode(), record["signature"]):
        return SIGNATURE
    return ""


def chain_check(
    records: Iterable[Mapping],
    *,
    public_key: Ed25519PublicKey,
    start: tuple[int, str] | None = (1, GENESIS),
) -> ChainResult:
    """Walk records in seq order: seqs without gaps, each prev_hash the entry_hash before it,
    each entry_hash recomputed from its body, each signature valid. ``start`` is where the
    chain must begin, (seq, prev_hash): (1, 64 zeros), or a purge's anchor; None accepts the
    first record's own link (an excerpt of a chain)."""
    count = 0
    first = last = None
    expected_seq, expected_prev = start if start is not None else (None, None)
    for record in sorted(records, key=lambda r: r["seq"]):
        seq = record["seq"]
        if first is None:
            first = seq
            if start is None:
                expected_seq, expected_prev = seq, record["prev_hash"]
            elif seq < expected_seq:
                return ChainResult(count, first, last, seq, START, f"expected #{expected_seq}")
        if seq != expected_seq:
            return ChainResult(
                count, first, last, expected_seq, MISSING, f"the next record is #{seq}"
            )
        problem = record_check(record, public_key)
        if not problem and record["prev_hash"] != expected_prev:
            problem = PREV_HASH
        if problem:
            detail = ""
            if problem == SIGNATURE and record.get("key_id") not in (None, key_id_of(public_key)):
                detail = f"signed with key {record['key_id']}, not {key_id_of(public_key)}"
            return ChainResult(count, first, last, seq, problem, detail)
        count += 1
        last = seq
        expected_seq, expected_prev = seq + 1, record["entry_hash"]
    return ChainResult(count, first, last)


def records_of(document) -> list[dict]:
    """The records of a downloaded JSON: one record, a list of records, or {"records": [...]}."""
    if isinstance(document, Mapping) and "records" in document:
        document = document["records"]
    if isinstance(document, Mapping):
        document = [document]
    if not isinstance(document, list) or not all(isinstance(r, Mapping) for r in document):
        raise ValueError("expected a minutes record, a list of them, or {'records': [...]}")
    keys = ("seq", "body", "prev_hash", "entry_hash", "signature")
    for record in document:
        missing = [key for key in keys if key not in record]
        if missing:
            raise ValueError(f"a record lacks {', '.join(missing)}")
    return [dict(record) for record in document]
