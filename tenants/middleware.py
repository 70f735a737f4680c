from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

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


class TenantStatusMiddleware:
    """A controller that is not active sees a clear page and no data at all."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is not None and connection.schema_name != "public" and not tenant.is_operational:
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
