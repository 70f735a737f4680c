from django.conf import settings
from rest_framework.parsers import JSONParser

from subjects.api.errors import PAYLOAD_TOO_LARGE, PayloadTooLarge


class LimitedJSONParser(JSONParser):
    """JSON with a hard size limit: an oversized body is refused before it is parsed."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if declared > limit:
            raise PayloadTooLarge(PAYLOAD_TOO_LARGE % {"limit": limit})
        return super().parse(stream, media_type, parser_context)
