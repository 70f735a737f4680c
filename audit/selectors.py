"""Reads of the processing log."""

from dataclasses import dataclass

from django.db.models import QuerySet

from audit.models import AuditEntry
from audit.services import GENESIS_HASH, entry_digest, hashed_fields

# Entries are streamed in chunks so verifying a long chain needs little memory.
_VERIFY_CHUNK = 2000


@dataclass(frozen=True)
class ChainReport:
    entries: int
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def audit_entry_list(*, action: str = "", actor: str = "") -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.all()
    if action:
        entries = entries.filter(action=action)
    if actor:
        entries = entries.filter(actor_label__icontains=actor)
    return entries.order_by("-seq")


def audit_chain_verify() -> ChainReport:
    """Walk the current schema's chain and report the first broken link."""
    expected_prev, expected_seq, count = GENESIS_HASH, 1, 0
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=_VERIFY_CHUNK):
        count += 1
        if entry.seq != expected_seq:
            return ChainReport(
                count, entry.seq, f"expected entry #{expected_seq}, found #{entry.seq}"
            )
        if entry.prev_hash != expected_prev:
            return ChainReport(count, entry.seq, "link to the previous entry does not match")
        digest = entry_digest(
            seq=entry.seq,
            at=entry.at.isoformat(),
            prev_hash=entry.prev_hash,
            fields=hashed_fields(entry),
        )
        if digest != entry.entry_hash:
            return ChainReport(count, entry.seq, "entry content does not match its hash")
        expected_prev, expected_seq = entry.entry_hash, expected_seq + 1
    return ChainReport(count)
