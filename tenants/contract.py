"""Contract end: the grace period, the data-return export, destruction and its certificate.

1. The contract ends when a platform admin marks it so, or when the daily scan finds
   ``contract_end`` passed (``contracts_lapsed_end``). ``contract_ended_at`` is set and the
   controller is served read-only for ``PORTAL_CONTRACT_GRACE_DAYS`` days
   (tenants.middleware). Background work stops (config.celery.TenantTask), except the
   export, whose task says it runs for read-only controllers too.
2. During the grace period a controller admin requests a full export (``export_request``);
   a task in the controller's schema writes the ZIP under its media prefix
   (tenants.export). Only its controller admins download it.
3. Once the grace period is over the same daily scan, on the provisioning worker (owner
   role), calls ``contract_destroy``: retention.controller_end destroys the keys, files and
   ledger entries, then in ONE public-schema transaction the schema is dropped, the hosts
   removed (the host answers 404), the status set to destroyed, the act logged in the
   platform's processing log and the signed certificate stored. A crash before that
   transaction commits leaves the schema in place and the re-run finishes the job with the
   same counts (they are read from the schema's rows); once it committed, a re-run finds the
   certificate and does nothing.

The certificate's signature covers ``certificate_message(body)``: the body as JSON with
sorted keys, no spaces, UTF-8. Anyone with the public key at /audit/signing-key.pem can
check it (``certificate_signature_valid``).
"""

import json
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tenants.utils import schema_context
from psycopg import sql

from accounts.models import User
from audit import signing
from audit.models import Action
from audit.services import audit_entry_create
from config.errors import PortalError
from config.pdf import BASE_CSS, html_to_pdf
from retention.controller_end import controller_data_destroy
from subjects.exports import export_announce
from subjects.models import DataCategory, DataSubject
from tenants.models import ContractExport, DestructionCertificate, Domain, Tenant
from tenants.services import tenant_set_status

logger = logging.getLogger(__name__)

CERTIFICATE_TYPE = "kvkk-controller-destruction-certificate"
NOT_IN_GRACE = gettext_lazy("An export can only be requested after the contract has ended.")
EXPORT_RUNNING = gettext_lazy("An export is already being prepared; wait until it is ready.")
GRACE_NOT_OVER = gettext_lazy("The grace period of this controller is not over yet.")
NEEDS_OWNER_ROLE = gettext_lazy(
    "Destroying a controller needs the database owner role; it runs on the provisioning worker."
)


def _date(value: datetime | None) -> str:
    return formats.date_format(timezone.localtime(value), "DATE_FORMAT") if value else ""


def read_only_message(tenant: Tenant) -> str:
    """What every page and refused write says while the controller is read-only."""
    return _(
        "The contract of %(name)s ended on %(ended)s. The portal is read-only: nothing can be "
        "changed. The data is kept until %(until)s for its return (a controller admin can "
        "download an export) and is then destroyed."
    ) % {
        "name": tenant.legal_name,
        "ended": _date(tenant.contract_ended_at),
        "until": _date(tenant.grace_ends_at),
    }


# --- 1. the end of the contract ---------------------------------------------------------


def contracts_lapsed_end(*, now: datetime | None = None) -> list[str]:
    """End the contracts whose ``contract_end`` date has passed; returns their schemas."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    ended = []
    with schema_context("public"):
        lapsed = Tenant.objects.exclude(schema_name="public").filter(
            status__in=[Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED], contract_end__lt=today
        )
        for tenant in lapsed:
            tenant_set_status(
                tenant=tenant,
                status=Tenant.Status.CONTRACT_ENDED,
                changed_by=None,
                reason="contract_end passed",
                now=now,
            )
            ended.append(tenant.schema_name)
        # A contract marked ended before its date was recorded starts its grace period now.
        Tenant.objects.filter(
            status=Tenant.Status.CONTRACT_ENDED, contract_ended_at__isnull=True
        ).update(contract_ended_at=now)
    return ended


def tenants_due_destruction(*, now: datetime | None = None) -> QuerySet[Tenant]:
    """Controllers whose grace period is over."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.PORTAL_CONTRACT_GRACE_DAYS)
    return Tenant.objects.exclude(schema_name="public").filter(
        status=Tenant.Status.CONTRACT_ENDED, contract_ended_at__lte=cutoff
    )


# --- 2. the data-return export ------------------------------------------------------------


def export_request(*, tenant: Tenant, user: User, request=None) -> ContractExport:
    """Queue a full export of the controller's data (controller admins, grace period only)."""
    with schema_context("public"), transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if not tenant.is_read_only:
            raise PortalError(NOT_IN_GRACE, code="not_in_grace", status=409)
        if tenant.exports.filter(status=ContractExport.Status.PENDING).exists():
            raise PortalError(EXPORT_RUNNING, code="export_running", status=409)
        export = ContractExport.objects.create(
            tenant=tenant, requested_by_id=user.pk, requested_by_label=user.get_username()
        )
    schema = tenant.schema_name

    def queue():
        from tenants.tasks import contract_export

        contract_export.delay(schema_name=schema, export_id=export.pk)

    transaction.on_commit(queue)
    return export


def export_download_record(*, export: ContractExport, user: User, request=None) -> None:
    """Log a download of the export in the controller's processing log (a disclosure of it all)."""
    audit_entry_create(
        action=Action.EXPORT,
        actor=user,
        request=request,
        detail={"event": "contract_export_download", "export": str(export.uuid)},
    )
    # The whole register leaves the system: logged as an export to the controller (C6).
    export_announce(
        subject_ids=list(
            DataSubject.objects.filter(key_destroyed_at__isnull=True).values_list("pk", flat=True)
        ),
        category_ids=list(DataCategory.objects.values_list("pk", flat=True)),
        label="contract_export_download",
        actor=user,
        request=request,
    )


def exports_of(tenant: Tenant) -> QuerySet[ContractExport]:
    with schema_context("public"):
        return ContractExport.objects.filter(tenant_id=tenant.pk)


# --- 3. destruction and its certificate ---------------------------------------------------


def certificate_message(body: dict) -> bytes:
    """The exact bytes the certificate's signature covers."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def certificate_signature_valid(certificate: DestructionCertificate) -> bool:
    return signing.signature_valid(certificate_message(certificate.body), certificate.signature)


def _can_drop_schemas() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_database_privilege(current_database(), 'CREATE')")
        return cursor.fetchone()[0]


def _certificate_body(tenant: Tenant, counts: dict, destroyed_at: datetime) -> dict:
    return {
        "type": CERTIFICATE_TYPE,
        "version": 1,
        "controller": {
            "legal_name": tenant.legal_name,
            "vkn": tenant.vkn,
            "mersis_no": tenant.mersis_no,
            "schema": tenant.schema_name,
        },
        "contract": {
            "number": tenant.contract_no,
            "start": tenant.contract_start.isoformat() if tenant.contract_start else None,
            "end": tenant.contract_end.isoformat() if tenant.contract_end else None,
            "ended_at": tenant.contract_ended_at.isoformat(),
        },
        "grace_days": settings.PORTAL_CONTRACT_GRACE_DAYS,
        "counts": {name: counts[name] for name in ("subjects", "items", "interactions", "files")},
        "destroyed": [
            "schema",
            "tenant_key",
            "subject_keys",
            "attachment_files",
            "exports",
            "destruction_ledger",
        ],
        "destroyed_at": destroyed_at.isoformat(),
        "key_id": signing.key_id(),
    }


def contract_destroy(*, tenant_id: int, now: datetime | None = None) -> DestructionCertificate:
    """Destroy a controller whose grace period is over; return its signed certificate.

    Idempotent: a controller already destroyed returns its one certificate unchanged.
    Needs the owner role (the provisioning worker).
    """
    now = now or timezone.now()
    with schema_context("public"), transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant_id)
        existing = DestructionCertificate.objects.filter(tenant=tenant).first()
        if existing is not None:
            return existing
        grace_ends_at = tenant.grace_ends_at
        if tenant.is_public or not tenant.is_read_only or not grace_ends_at or grace_ends_at > now:
            raise PortalError(GRACE_NOT_OVER, code="grace_not_over", status=409)
        if not _can_drop_schemas():
            raise PortalError(NEEDS_OWNER_ROLE, code="needs_owner_role")
        # Keys, files and ledger first (idempotent, committed on their own): from here on
        # nothing of the controller can be decrypted, even if this transaction rolls back.
        counts = controller_data_destroy(schema_name=tenant.schema_name)
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(tenant.schema_name)
                )
            )
        Domain.objects.filter(tenant=tenant).delete()  # the host now answers 404
        ContractExport.objects.filter(tenant=tenant).delete()  # their files went above
        tenant.status = Tenant.Status.DESTROYED
        tenant.save(update_fields=["status"])
        body = _certificate_body(tenant, counts, now)
        certificate = DestructionCertificate.objects.create(
            tenant=tenant,
            legal_name=tenant.legal_name,
            vkn=tenant.vkn,
            schema_name=tenant.schema_name,
            contract_end=tenant.contract_end,
            contract_ended_at=tenant.contract_ended_at,
            grace_days=settings.PORTAL_CONTRACT_GRACE_DAYS,
            counts=body["counts"],
            destroyed_at=now,
            body=body,
            signature=signing.sign(certificate_message(body)),
            key_id=signing.key_id(),
        )
        audit_entry_create(
            action=Action.DESTROY,
            target=tenant,
            detail={
                "event": "contract_end_destruction",
                "schema": tenant.schema_name,
                "certificate": certificate.pk,
                "counts": body["counts"],
            },
        )
    logger.warning("Destroyed controller %s (schema %s)", tenant.legal_name, tenant.schema_name)
    return certificate


def contract_scan(*, now: datetime | None = None) -> dict:
    """The daily platform scan: end lapsed contracts, destroy controllers past their grace."""
    now = now or timezone.now()
    ended = contracts_lapsed_end(now=now)
    destroyed, failed = [], []
    with schema_context("public"):
        due = list(tenants_due_destruction(now=now).values_list("pk", "schema_name"))
    for tenant_id, schema_name in due:
        try:
            contract_destroy(tenant_id=tenant_id, now=now)
        except Exception:
            logger.exception("Destroying controller %s failed; the next scan retries", schema_name)
            failed.append(schema_name)
        else:
            destroyed.append(schema_name)
    return {"ended": ended, "destroyed": destroyed, "failed": failed}


def certificate_pdf(certificate: DestructionCertificate) -> bytes:
    """The certificate as a Turkish PDF, with its signed JSON and signature printed."""
    with translation.override("tr"):
        html = render_to_string(
            "tenants/destruction_certificate.html",
            {
                "certificate": certificate,
                "css": BASE_CSS,
                "message": certificate_message(certificate.body).decode(),
                "fingerprint": signing.fingerprint(),
            },
        )
    return html_to_pdf(html)
