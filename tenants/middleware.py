from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.translation import gettext as _

from tenants.contract import read_only_message
from tenants.models import Tenant


class LanguageMiddleware:
    """Turkish unless someone chose otherwise.

    Order of precedence: the logged-in user's own choice, the language cookie
    (set by the switcher), the controller's default language, Turkish. The
    browser's Accept-Language is deliberately ignored: Turkish is the default.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        available = dict(settings.LANGUAGES)
        tenant = getattr(request, "tenant", None)
        candidates = [
            getattr(request.user, "language", None) if request.user.is_authenticated else None,
            request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME),
            getattr(tenant, "language", None),
        ]
        language = next((code for code in candidates if code in available), settings.LANGUAGE_CODE)
        if request.path.startswith("/api/"):
            # API clients choose with Accept-Language; Turkish when they do not say.
            language = translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


# What a read-only controller may still send: getting in and out, asking for its export, and
# the reads that are posted so that identifiers and purposes stay out of URLs (they change
# nothing but the processing log). API views say so with ``reads_only = True``.
READ_ONLY_ALLOWED_WRITES = frozenset(
    {
        "accounts:login",
        "accounts:verify",
        "accounts:enroll",
        "accounts:logout",
        "accounts:set_language",
        "contract:export_request",
        "subjects:index",
        "subjects:detail",
        "audit:export",
    }
)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _write_allowed_when_read_only(request) -> bool:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    view_class = getattr(match.func, "view_class", None)
    return match.view_name in READ_ONLY_ALLOWED_WRITES or getattr(view_class, "reads_only", False)


class TenantStatusMiddleware:
    """A controller that is not served sees a clear page and no data at all.

    A controller in its grace period after the contract ended is served read-only:
    every write is refused with the dates (tenants.contract.read_only_message), except
    log-in, log-out, the second factor and the request of the data-return export.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is None or connection.schema_name == "public":
            return self.get_response(request)
        if (
            tenant.is_read_only
            and request.method in UNSAFE_METHODS
            and not _write_allowed_when_read_only(request)
        ):
            return self._read_only_refusal(request, tenant)
        if not tenant.is_served:
            status = Tenant.Status(tenant.status).label
            if request.path.startswith("/api/"):
                message = _("This workspace is not available (status: %(status)s).") % {
                    "status": status
                }
                body = {
                    "error": {"code": "workspace_unavailable", "message": message, "fields": {}}
                }
                return JsonResponse(body, status=503)
            return render(
                request,
                "tenants/unavailable.html",
                {"status": status, "tenant_name": tenant.legal_name},
                status=503,
            )
        return self.get_response(request)

    @staticmethod
    def _read_only_refusal(request, tenant):
        message = read_only_message(tenant)
        if request.path.startswith("/api/"):
            body = {"error": {"code": "contract_ended", "message": message, "fields": {}}}
            return JsonResponse(body, status=403)
        return render(request, "tenants/read_only.html", {"message": message}, status=403)
