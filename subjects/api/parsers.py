"""The API's body parser: JSON within API_MAX_BODY_BYTES.

Only DRF is imported here: DRF loads this module while it sets up its views, before the
rest of the API exists.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser

PAYLOAD_TOO_LARGE = _("The request body is larger than %(limit)s bytes.")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


def body_limit_check(request) -> None:
    """Refuse a body larger than API_MAX_BODY_BYTES by its declared length, before reading it."""
    limit = settings.API_MAX_BODY_BYTES
    declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
    if declared > limit:
        raise PayloadTooLarge(PAYLOAD_TOO_LARGE % {"limit": limit})


class LimitedJSONParser(JSONParser):
    """JSON with a hard size limit: an oversized body is refused before it is parsed."""

    def parse(self, stream, media_type=None, parser_context=None):
        body_limit_check((parser_context or {}).get("request"))
        return super().parse(stream, media_type, parser_context)
