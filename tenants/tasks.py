import logging

from django.utils import timezone, translation
from django_tenants.utils import schema_context

from accounts.models import User
from config.celery import TenantTask, app
from config.errors import PortalError
from tenants import contract, processor_breaches
from tenants.export import export_build
from tenants.forms import ProvisionForm
from tenants.models import ContractExport, Tenant
from tenants.selectors import operational_tenants
from tenants.services import tenant_provision

logger = logging.getLogger(__name__)


@app.task(name="tenants.tasks.fan_out")
def fan_out(task_name: str) -> list[str]:
    """Beat's only entry point: queue ``task_name`` once per operational controller."""
    with schema_context("public"):
        schemas = list(operational_tenants().values_list("schema_name", flat=True))
    for schema_name in schemas:
        app.send_task(task_name, kwargs={"schema_name": schema_name})
    return schemas


@app.task(name="tenants.tasks.provision")
def provision(*, form_data: dict, provisioned_by_id: int | None, language: str) -> dict:
    """Provision a controller from the admin page's form (CELERY_PROVISIONING_QUEUE).

    Runs only on the provisioning worker, which connects as the owner role: the
    web process, connected as the runtime role, cannot create schemas. Returns the
    outcome for the admin page: the new controller and its one-time invitation link,
    or the field and message of the error.
    """
    with translation.override(language), schema_context("public"):
        form = ProvisionForm(form_data)
        if not form.is_valid():
            field, messages = next(iter(form.errors.items()))
            return {"error": {"field": field, "message": " ".join(messages)}}
        try:
            result = tenant_provision(
                provisioned_by=User.objects.filter(pk=provisioned_by_id).first(),
                **form.cleaned_data,
            )
        except PortalError as exc:
            return {"error": {"field": exc.field, "message": str(exc.message)}}
    return {
        "tenant_id": result.tenant.pk,
        "name": result.tenant.legal_name,
        "url": result.tenant.base_url,
        "invitation_url": result.invitation_url,
        "seconds": round(result.seconds, 2),
    }


@app.task(name="tenants.tasks.contract_scan")
def contract_scan() -> dict:
    """Daily, on the provisioning worker (owner role): end lapsed contracts and destroy
    the controllers whose grace period is over (tenants.contract)."""
    with schema_context("public"):
        return contract.contract_scan()


@app.task(base=TenantTask, name="tenants.tasks.contract_export", runs_when_read_only=True)
def contract_export(*, schema_name: str, export_id: int) -> dict:
    """Build a controller's data-return export in its own schema (also during the grace period)."""
    export = ContractExport.objects.get(pk=export_id)
    if export.status != ContractExport.Status.PENDING:
        return {"export": str(export.uuid), "status": export.status}
    actor = User.objects.filter(pk=export.requested_by_id).first()
    try:
        export = export_build(export_id=export_id, actor=actor)
    except Exception:
        logger.exception("The data-return export %s failed", export.uuid)
        ContractExport.objects.filter(pk=export_id).update(
            status=ContractExport.Status.FAILED, finished_at=timezone.now()
        )
        raise
    return {"export": str(export.uuid), "status": export.status, "counts": export.counts}


@app.task(name="tenants.tasks.processor_breach_deliver")
def processor_breach_deliver(*, schema_name: str, processor_breach_id: int) -> bool:
    """Deliver a processor breach to one affected controller (portal notice and e-mail)."""
    with schema_context("public"):
        tenant = Tenant.objects.get(schema_name=schema_name)
    return processor_breaches.processor_breach_deliver(
        tenant=tenant, processor_breach_id=processor_breach_id
    )


@app.task(name="tenants.tasks.processor_breach_redeliver")
def processor_breach_redeliver() -> list[str]:
    """Queue again processor-breach deliveries a worker did not finish (beat, every 15 minutes)."""
    return processor_breaches.processor_breach_redeliver()
