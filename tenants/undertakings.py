"""The processor's staff register: confidentiality undertakings (gizlilik taahhütnamesi).

KVKK Art. 12(4): the processor's people may not disclose or misuse the personal
data they learn, and the duty continues after they leave. Every platform user
signs the undertaking in force before reaching the platform administration.
Everything here lives in the public schema.
"""

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_tenants.utils import schema_context

from accounts.models import User
from audit.models import Action
from audit.services import audit_entry_create
from config.client_ip import client_ip
from config.errors import PortalError
from tenants.models import Undertaking, UndertakingVersion
from tenants.selectors import undertaking_version_current

UNDERTAKING_NOT_CURRENT = _(
    "Only the undertaking in force can be signed. Read the current version and sign that one."
)


def undertaking_sign(
    *, user: User, version: UndertakingVersion, request: HttpRequest | None = None
) -> Undertaking:
    """Record the user's signature under the version in force (KVKK Art. 12(4)).

    Signing the same version again returns the existing signature and logs
    nothing new; a superseded or not-yet-effective version cannot be signed.
    """
    with schema_context("public"), transaction.atomic():
        current = undertaking_version_current()
        if current is None or current.pk != version.pk:
            raise PortalError(UNDERTAKING_NOT_CURRENT, code="undertaking_not_current")
        undertaking, created = Undertaking.objects.get_or_create(
            user=user,
            version=current,
            defaults={"ip_address": client_ip(request)},
        )
        if created:
            audit_entry_create(
                action=Action.CREATE,
                actor=user,
                target=undertaking,
                detail={"event": "undertaking_signed", "version": current.version},
                request=request,
            )
    return undertaking
