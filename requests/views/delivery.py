"""The applicant's one-time download of a released answer (no log-in; a follow code)."""

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_POST

from accounts.access import otp_exempt
from config.errors import PortalError
from requests.delivery import download_once
from requests.models import Application


@otp_exempt
@require_POST
def download_view(request, reference: str, key: str):
    """POST only (a link prefetched by a mail scanner must not use the download up).

    An unknown reference and a known one without a follow session answer alike (404).
    """
    application = Application.objects.filter(reference=reference).first()
    if application is None:
        raise Http404
    try:
        released, content = download_once(request, application, key)
    except PortalError as exc:
        if exc.status == 404:
            raise Http404 from exc
        return HttpResponse(
            str(exc.message), status=exc.status, content_type="text/plain; charset=utf-8"
        )
    response = HttpResponse(content, content_type=released.content_type)
    response["Content-Disposition"] = f'attachment; filename="{released.name}"'
    response["Cache-Control"] = "no-store"
    return response
