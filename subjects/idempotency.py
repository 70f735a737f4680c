"""Idempotency keys of API writes: a retried call gets the first answer and writes nothing.

A controller system that lost the answer to a write (a timeout, a dropped connection) sends
it again with the same ``Idempotency-Key`` header. The key is taken in the write's own
transaction, before the write: a concurrent duplicate waits on the key's unique index until
the first commits, then gets its answer; a write that fails rolls its key back with it, so
the retry runs afresh. Keys are per API token and kept for KEY_LIFETIME.
"""

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.errors import PortalError
from subjects.models import ApiToken, IdempotentWrite

# A client retries within minutes; a day covers retries after an outage and keeps the table
# small. The hourly sweep (idempotency_keys_expire) deletes older keys.
KEY_LIFETIME = timedelta(hours=24)
KEY_MAX_LENGTH = 255

KEY_INVALID = _(
    "The Idempotency-Key header must be 1 to 255 visible ASCII characters, such as a UUID."
)
KEY_REUSED = _(
    "This Idempotency-Key was already used for a different request. Use a new key for every "
    "new request, and the same key only to retry the same request with the same body."
)


def idempotency_key_check(key: str) -> str:
    """The header's value if it is usable as a key; PortalError otherwise."""
    if not (0 < len(key) <= KEY_MAX_LENGTH and key.isascii() and key.isprintable()) or " " in key:
        raise PortalError(KEY_INVALID, code="invalid", field="Idempotency-Key")
    return key


def idempotency_key_claim(
    *, token: ApiToken, key: str, fingerprint: str
) -> tuple[IdempotentWrite, bool]:
    """Take the key for this request, or find the answer an earlier request got with it.

    Returns (record, True) when the caller must do the write and then answer_record() it,
    in the same transaction; (record, False) when the record holds the answer to give.
    Must run inside the write's transaction.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("idempotency_key_claim must run in the write's transaction")
    try:
        with transaction.atomic():
            # Blocks while another transaction holds the same key, until it ends.
            record = IdempotentWrite.objects.create(token=token, key=key, fingerprint=fingerprint)
    except IntegrityError:
        record = IdempotentWrite.objects.get(token=token, key=key)
        if record.fingerprint != fingerprint:
            raise PortalError(KEY_REUSED, code="idempotency_key_reused", status=422) from None
        return record, False
    return record, True


def idempotency_key_answer(*, record: IdempotentWrite, status: int, response: Any) -> None:
    """Keep the answer with its key, in the write's transaction (no personal values in it)."""
    record.status, record.response = status, response
    record.save(update_fields=["status", "response"])


def idempotency_keys_expire(*, now: datetime | None = None) -> int:
    """Delete keys older than KEY_LIFETIME; returns how many went."""
    cutoff = (now or timezone.now()) - KEY_LIFETIME
    deleted, _ = IdempotentWrite.objects.filter(created_at__lt=cutoff).delete()
    return deleted
