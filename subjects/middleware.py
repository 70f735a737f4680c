"""A stored value that fails its integrity check gets its own page and log entry, never a 500."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from subjects.crypto import ValueTampered
from subjects.services import value_tampered_record

API_PREFIX = "/api/"


def integrity_error_message() -> str:
    return _(
        "A stored value failed its integrity check: it was changed or moved outside the portal. "
        "Nothing was shown. The event is recorded in the audit trail; tell the controller's admin."
    )


class ValueTamperedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ValueTampered):
            return None
        user = getattr(request, "user", None)
        value_tampered_record(
            error=exception,
            actor=user if getattr(user, "is_authenticated", False) else None,
            request=request,
        )
        if request.path.startswith(API_PREFIX):
            body = {
                "error": {
                    "code": "integrity_error",
                    "message": integrity_error_message(),
                    "fields": {},
                }
            }
            return JsonResponse(body, status=409)
        return render(
            request,
            "subjects/integrity_error.html",
            {"message": integrity_error_message()},
            status=409,
        )
