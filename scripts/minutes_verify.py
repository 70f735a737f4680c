#!/usr/bin/env python3
"""Verify downloaded destruction minutes (imha tutanağı) with the platform's public key alone.

    python3 minutes_verify.py minutes.json signing-key.pem

Needs Python 3.10+ and the `cryptography` package, nothing of the portal. The key is the
PEM the platform host publishes at /audit/signing-key.pem; compare its SHA-256 fingerprint
with the one on the platform's home page. The JSON is one record, a list of records, or
{"records": [...]} as the portal downloads them. For each record (in seq order) the script
recomputes entry_hash from the body, checks the Ed25519 signature over it, and checks that
each prev_hash is the entry_hash of the record before. Exit status 0 when all hold, 1 when
one does not (the first broken seq is printed), 2 when the files cannot be read.
"""

import hashlib
import json
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def canonical(body) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(record) -> str:
    head = f"kvkk-minutes|1|{record['seq']}|{record['prev_hash']}|".encode()
    return hashlib.sha256(head + canonical(record["body"])).hexdigest()


def signature_valid(key: Ed25519PublicKey, record) -> bool:
    try:
        key.verify(bytes.fromhex(record["signature"]), record["entry_hash"].encode())
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def records_of(document) -> list:
    if isinstance(document, dict) and "records" in document:
        document = document["records"]
    if isinstance(document, dict):
        document = [document]
    return sorted(document, key=lambda record: record["seq"])


def check(records, key) -> tuple[int | None, str]:
    """The first broken seq and why, or (None, '')."""
    expected_seq = expected_prev = None
    for record in records:
        seq = record["seq"]
        if expected_seq is not None and seq != expected_seq:
            return expected_seq, f"record is missing from the chain (the next is #{seq})"
        if entry_hash(record) != record["entry_hash"]:
            return seq, "entry_hash does not match the body (the body or the hash was changed)"
        if not signature_valid(key, record):
            return seq, "signature does not verify with the public key"
        if expected_prev is not None and record["prev_hash"] != expected_prev:
            return seq, "prev_hash does not match the record before"
        expected_seq, expected_prev = seq + 1, record["entry_hash"]
    return None, ""


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        key = serialization.load_pem_public_key(Path(argv[2]).read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        records = records_of(json.loads(Path(argv[1]).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot read the file or the key: {exc}", file=sys.stderr)
        return 2
    if not records:
        print("no records in the file", file=sys.stderr)
        return 2
    broken, reason = check(records, key)
    if broken is not None:
        print(f"BROKEN at minutes #{broken}: {reason}")
        return 1
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    print(
        f"OK: {len(records)} minutes (#{records[0]['seq']}–#{records[-1]['seq']}), "
        f"signed by the key with SHA-256 fingerprint {hashlib.sha256(raw).hexdigest()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
