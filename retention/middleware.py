"""The portal refuses to serve a controller whose data is behind its destruction ledger.

After a data backup is restored, items and subjects the ledger says were ended may be
back. Until ``manage.py destruction_replay`` has ended them again, the controller's portal
and API answer 503 with a page telling the platform admin to run the replay. The check
costs one single-row query per request; the ledger's last id is cached for a few seconds
(settings.RETENTION_LEDGER_CACHE_SECONDS), so a restore is noticed within those seconds.
"""

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from retention import ledger


class LedgerBehindMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        schema = connection.schema_name
        tenant = getattr(request, "tenant", None)
        if tenant is not None and schema != "public" and ledger.schema_behind():
            message = _(
                "This workspace's data was restored from a backup and still holds data "
                "that was destroyed. It is closed until the platform administrator runs "
                "“manage.py destruction_replay --schema %(schema)s”."
            ) % {"schema": schema}
            if request.path.startswith("/api/"):
                body = {"error": {"code": "ledger_behind", "message": message, "fields": {}}}
                return JsonResponse(body, status=503)
            return render(request, "retention/ledger_behind.html", {"message": message}, status=503)
        return self.get_response(request)
