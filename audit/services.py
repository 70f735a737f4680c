"""The only code that writes the processing log (KVKK Art. 12: security measures)."""

import hashlib
import json
from typing import Any

from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.models import Action, AuditEntry

GENESIS_HASH = "0" * 64
# Key space of the advisory lock that serialises appends to one schema's chain.
_CHAIN_LOCK_CLASS = 0x4B564B4B  # "KVKK"


def entry_digest(*, seq: int, at: str, prev_hash: str, fields: dict[str, Any]) -> str:
    """SHA-256 over a canonical JSON form of the entry and its predecessor's hash."""
    payload = {"seq": seq, "at": at, "prev_hash": prev_hash, **fields}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def hashed_fields(entry: AuditEntry) -> dict[str, Any]:
    return {
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "subject_ref": entry.subject_ref,
        "purpose": entry.purpose,
        "detail": entry.detail,
        "ip_address": entry.ip_address,
    }


def _client_ip(request: HttpRequest | None) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


def audit_entry_create(
    *,
    action: Action | str,
    actor: Any = None,
    actor_label: str = "",
    target: models.Model | None = None,
    subject_ref: str = "",
    purpose: str = "",
    detail: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEntry:
    """Append one entry to the current schema's chain and return it.

    ``actor`` is the acting user (or None for the system); ``target`` the
    object acted on. Appends are serialised per schema by a transaction-scoped
    advisory lock, so concurrent writers never fork the chain.
    """
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_id, label = actor.pk, actor_label or actor.get_username()
    else:
        actor_id, label = None, actor_label or "system"
    entry = AuditEntry(
        actor_id=actor_id,
        actor_label=label[:150],
        action=str(action),
        object_type=target._meta.label if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        subject_ref=str(subject_ref),
        purpose=str(purpose)[:255],
        detail=detail or {},
        ip_address=_client_ip(request),
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", [_CHAIN_LOCK_CLASS]
            )
        last = AuditEntry.objects.order_by("-seq").only("seq", "entry_hash").first()
        entry.seq = last.seq + 1 if last else 1
        entry.prev_hash = last.entry_hash if last else GENESIS_HASH
        entry.at = timezone.now()
        entry.entry_hash = entry_digest(
            seq=entry.seq,
            at=entry.at.isoformat(),
            prev_hash=entry.prev_hash,
            fields=hashed_fields(entry),
        )
        entry.save(force_insert=True)
    return entry
