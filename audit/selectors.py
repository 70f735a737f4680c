"""Reads of the processing log."""

from dataclasses import dataclass

from django.db.models import QuerySet

from audit.models import AuditEntry, ChainLink, UnlinkedEntry
from audit.services import GENESIS_HASH, entry_digest, hashed_fields

# Links are streamed in chunks so verifying a long chain needs little memory.
_VERIFY_CHUNK = 2000


@dataclass(frozen=True)
class ChainReport:
    entries: int
    broken_seq: int | None = None
    reason: str = ""
    waiting: int = 0  # committed entries still waiting for their link

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def audit_entry_list(*, action: str = "", actor: str = "") -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.select_related("link")
    if action:
        entries = entries.filter(action=action)
    if actor:
        entries = entries.filter(actor_label__icontains=actor)
    return entries.order_by("-id")


def audit_chain_verify() -> ChainReport:
    """Walk the current schema's chain and report the first broken link.

    Every entry must be linked, or still wait in the queue: an entry that is
    neither was taken out of the chain's reach.
    """
    expected_prev, expected_seq, count = GENESIS_HASH, 1, 0
    links = ChainLink.objects.select_related("entry").order_by("seq")
    for link in links.iterator(chunk_size=_VERIFY_CHUNK):
        count += 1
        if link.seq != expected_seq:
            return ChainReport(
                count, link.seq, f"expected entry #{expected_seq}, found #{link.seq}"
            )
        if link.prev_hash != expected_prev:
            return ChainReport(count, link.seq, "link to the previous entry does not match")
        digest = entry_digest(
            seq=link.seq,
            at=link.entry.at.isoformat(),
            prev_hash=link.prev_hash,
            fields=hashed_fields(link.entry),
        )
        if digest != link.entry_hash:
            return ChainReport(count, link.seq, "entry content does not match its hash")
        expected_prev, expected_seq = link.entry_hash, expected_seq + 1
    waiting = UnlinkedEntry.objects.count()
    stray = (
        AuditEntry.objects.filter(link__isnull=True)
        .exclude(pk__in=UnlinkedEntry.objects.values("entry_id"))
        .order_by("pk")
        .first()
    )
    if stray is not None:
        return ChainReport(count, expected_seq, f"entry {stray.pk} is in no link", waiting)
    return ChainReport(count, waiting=waiting)
