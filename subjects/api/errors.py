"""One error shape for the whole API: ``{"error": {"code", "message", "fields"}}``."""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from config.errors import PortalError
from subjects.api.parsers import NullCharacter
from subjects.crypto import ValueTampered
from subjects.middleware import integrity_error_message
from subjects.services import value_tampered_record
from subjects.validation import RecordErrors

MALFORMED_JSON = _("The request body is not valid JSON.")
INVALID_INPUT = _("The request has invalid fields; see “fields”.")


def _flatten(detail, path: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as {"subjects[0].items[1].value": [...]}."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            flat.update(_flatten(value, f"{path}.{key}" if path else str(key)))
        return flat
    if isinstance(detail, list) and detail and not all(isinstance(item, str) for item in detail):
        flat = {}
        for index, value in enumerate(detail):
            if value:
                flat.update(_flatten(value, f"{path}[{index}]"))
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {path or "non_field_errors": [str(message) for message in messages]}


def _body(code: str, message, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def api_exception_handler(exc, context):
    if isinstance(exc, ValueTampered):
        request = context["request"]
        value_tampered_record(error=exc, actor_label=request.user.label, request=request._request)
        return Response(
            _body("integrity_error", integrity_error_message()), status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, RecordErrors):
        return Response(
            _body("invalid", INVALID_INPUT, exc.errors), status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, PortalError):
        fields = {exc.field: [str(exc.message)]} if exc.field else {}
        return Response(_body(exc.code, exc.message, fields), status=exc.status)
    if isinstance(exc, exceptions.ParseError) and not isinstance(exc, NullCharacter):
        exc = exceptions.ParseError(MALFORMED_JSON)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _body("invalid", INVALID_INPUT, _flatten(exc.detail))
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = _body(code, detail)
    return response
