"""Processor-side breaches (veri işleyende ihlal): recorded once by a platform admin,
fanned out to each affected controller without delay (Art. 12(5)).

Each controller is told once: a ``ProcessorBreachNotification`` row per controller is
claimed before its task is queued, so saving the report again queues nothing new.
"""

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_tenants.utils import schema_context, tenant_context

from config.celery import app
from config.kvkk import PROCESSOR_BREACH_NOTICE_HOURS
from tenants.models import ProcessorBreach, ProcessorBreachNotification, Tenant
from transfers.breaches import breach_from_processor

# A delivery not finished this long after it was queued is queued again.
REDELIVER_AFTER = timedelta(minutes=15)


def processor_breach_notify(*, breach: ProcessorBreach) -> list[str]:
    """Queue the notice to every affected controller not yet told; their schema names."""
    queued = []
    with schema_context("public"), transaction.atomic():
        breach = ProcessorBreach.objects.select_for_update().get(pk=breach.pk)
        told = set(breach.notifications.values_list("tenant_id", flat=True))
        for tenant in breach.controllers.exclude(pk__in=told).order_by("pk"):
            ProcessorBreachNotification.objects.create(breach=breach, tenant=tenant)
            queued.append(tenant.schema_name)
        if queued and breach.controllers_notified_at is None:
            breach.controllers_notified_at = timezone.now()
            breach.save(update_fields=["controllers_notified_at"])
        breach_id = breach.pk
    for schema_name in queued:
        transaction.on_commit(
            lambda schema_name=schema_name: app.send_task(
                "tenants.tasks.processor_breach_deliver",
                kwargs={"schema_name": schema_name, "processor_breach_id": breach_id},
            )
        )
    return queued


def processor_breach_deliver(*, tenant: Tenant, processor_breach_id: int) -> bool:
    """Record the processor's report in the controller's register and e-mail its contact.

    Returns whether this call delivered it (False when it had been delivered already).
    """
    with schema_context("public"):
        report = ProcessorBreach.objects.get(pk=processor_breach_id)
        notification = ProcessorBreachNotification.objects.get(breach=report, tenant=tenant)
        if notification.delivered_at is not None:
            return False
    notified_at = report.controllers_notified_at or timezone.now()
    with tenant_context(tenant):
        _breach, created = breach_from_processor(
            processor_breach_id=report.pk,
            title=report.title,
            occurred_at=report.occurred_at,
            detected_at=notified_at,
            processor_detected_at=report.detected_at,
            processor_notified_at=notified_at,
            description="\n\n".join(filter(None, [report.description, report.data_categories])),
            estimated_persons=report.estimated_persons,
            estimated_records=report.estimated_records,
            consequences=report.consequences or "-",
            measures_taken=report.measures_taken or "-",
            measures_planned=report.measures_planned,
            contact_name=report.contact_name,
            contact_email=report.contact_email,
        )
    if created and tenant.contact_email:
        with translation.override(tenant.language or settings.LANGUAGE_CODE):
            send_mail(
                subject=gettext("Your processor reports a personal-data breach"),
                message=render_to_string(
                    "tenants/email_processor_breach.txt",
                    {"report": report, "tenant": tenant, "notified_at": notified_at},
                ),
                from_email=None,
                recipient_list=[tenant.contact_email],
            )
    with schema_context("public"):
        ProcessorBreachNotification.objects.filter(pk=notification.pk).update(
            delivered_at=timezone.now(), emailed_to=tenant.contact_email if created else ""
        )
    return created


def processor_breach_redeliver(*, older_than: timedelta = REDELIVER_AFTER) -> list[str]:
    """Queue again the deliveries a worker did not finish (beat, hourly): the controller
    must still hear of the breach without delay. Delivery is idempotent."""
    with schema_context("public"):
        stalled = list(
            ProcessorBreachNotification.objects.filter(
                delivered_at__isnull=True, queued_at__lt=timezone.now() - older_than
            ).values_list("breach_id", "tenant__schema_name")
        )
    for breach_id, schema_name in stalled:
        app.send_task(
            "tenants.tasks.processor_breach_deliver",
            kwargs={"schema_name": schema_name, "processor_breach_id": breach_id},
        )
    return [schema_name for _, schema_name in stalled]


def controller_notice_delay(breach: ProcessorBreach) -> timedelta | None:
    """How long after the processor's awareness the controllers were notified."""
    if breach.controllers_notified_at is None:
        return None
    return breach.controllers_notified_at - breach.detected_at


def controller_notice_late(breach: ProcessorBreach) -> bool:
    """Whether the controllers were told (or are still untold) later than "without delay"
    allows (config.kvkk.PROCESSOR_BREACH_NOTICE_HOURS)."""
    told_at = breach.controllers_notified_at or timezone.now()
    return told_at - breach.detected_at > timedelta(hours=PROCESSOR_BREACH_NOTICE_HOURS)
