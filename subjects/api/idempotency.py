"""The Idempotency-Key header of API writes (see subjects.idempotency)."""

import hashlib
import json
from collections.abc import Callable
from functools import wraps

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from subjects.api.parsers import body_limit_check
from subjects.idempotency import (
    idempotency_key_answer,
    idempotency_key_check,
    idempotency_key_claim,
)
from subjects.services import refusals_log, refusals_log_deferred
from subjects.validation import ConsentRefused, RecordErrors

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "A key of your own for this write (1–255 visible ASCII characters, e.g. a UUID). "
        "Sent again with the same key and body, the call does not write a second time: it "
        "returns the first call's answer, with the header `Idempotent-Replayed: true`. A call "
        "still running with the same key is waited for. The same key with a different method, "
        "path or body is refused with 422. Keys are per API token and kept for at least 24 "
        "hours; a call that failed keeps no key, so its retry runs afresh."
    ),
)


def _fingerprint(request) -> str:
    body_limit_check(request)  # read before DRF parses the body: the same limit first
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def idempotent(handler: Callable) -> Callable:
    """Run an API write at most once per (token, Idempotency-Key); without the header, as is."""

    @wraps(handler)
    def wrapped(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        key, fingerprint = idempotency_key_check(key), _fingerprint(request)
        try:
            with refusals_log_deferred():
                return _claimed(handler, view, request, key, fingerprint, *args, **kwargs)
        except RecordErrors as exc:
            # the write rolled back with its key; the refusal of the consent gate stays logged
            refused = exc if isinstance(exc, ConsentRefused) else exc.__cause__
            if isinstance(refused, ConsentRefused):
                refusals_log(refused, actor_label=request.user.label, request=request._request)
            raise

    return wrapped


def _claimed(handler, view, request, key, fingerprint, *args, **kwargs):
    """The write in one transaction with its key: claimed, run, answered."""
    with transaction.atomic():
        record, fresh = idempotency_key_claim(token=request.auth, key=key, fingerprint=fingerprint)
        if not fresh:
            return Response(
                record.response, status=record.status, headers={REPLAYED_HEADER: "true"}
            )
        response = handler(view, request, *args, **kwargs)
        # Kept as it was rendered, so a replay is the same JSON.
        body = json.loads(JSONRenderer().render(response.data))
        idempotency_key_answer(record=record, status=response.status_code, response=body)
    return response
