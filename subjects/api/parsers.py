"""The API's body parser: JSON within API_MAX_BODY_BYTES.

Only DRF is imported here: DRF loads this module while it sets up its views, before the
rest of the API exists.
"""

import io

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser

PAYLOAD_TOO_LARGE = _("The request body is larger than %(limit)s bytes.")
NULL_CHARACTER = _("The request body contains a null character (\\u0000); no field accepts one.")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


def body_limit_check(request) -> None:
    """Refuse a body larger than API_MAX_BODY_BYTES by its declared length, before reading it."""
    limit = settings.API_MAX_BODY_BYTES
    declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
    if declared > limit:
        raise PayloadTooLarge(PAYLOAD_TOO_LARGE % {"limit": limit})


class NullCharacter(exceptions.ParseError):
    default_code = "null_character"


def _holds_null(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_null(key) or _holds_null(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_null(item) for item in value)
    return False


class LimitedJSONParser(JSONParser):
    """JSON with a hard size limit, refused before it is parsed when too large.

    A null character is refused too, whatever field it is in: PostgreSQL stores none in
    text, so it could only end in a server error. The body is walked only when its text
    holds the escape at all.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        body_limit_check((parser_context or {}).get("request"))
        raw = stream.read()
        data = super().parse(io.BytesIO(raw), media_type, parser_context)
        if b"\\u0000" in raw and _holds_null(data):
            raise NullCharacter(NULL_CHARACTER)
        return data
