"""The Celery app and the tenant-aware task base.

Every task that touches a controller's data takes ``schema_name`` as a keyword
argument; the base class resolves it to a tenant and runs the body inside that
schema, so no task can forget where it runs. Beat schedules only dispatchers
that fan out one task per operational tenant.
"""

import logging
import os

from celery import Celery, Task, signals
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect(dispatch_uid="portal_refuse_unsafe_database_worker")
@signals.beat_init.connect(dispatch_uid="portal_refuse_unsafe_database_beat")
def _refuse_unsafe_database(**kwargs) -> None:
    """In production a worker or beat whose database role fails the checks does not start.

    SystemExit passes through Celery's signal dispatch, which logs and swallows
    ordinary exceptions.
    """
    # Imported here because this module loads with the settings, before any app.
    from config.startup import refuse_unsafe_database

    refuse_unsafe_database()


class TenantTask(Task):
    """Runs the task body inside the schema named by its ``schema_name`` kwarg.

    A tenant that is not operational (suspended, contract ended, destroyed)
    gets no work done: the task is skipped and returns ``None``. A task declared
    with ``runs_when_read_only=True`` (the data-return export) also runs for a
    controller in its grace period after the contract ended.
    """

    abstract = True
    runs_when_read_only = False

    def __call__(self, *args, schema_name: str, **kwargs):
        # The body receives schema_name too: its signature says where it runs.
        # Imported here because this module loads with the settings, before any app.
        from django.apps import apps
        from django_tenants.utils import schema_context, tenant_context

        tenant_model = apps.get_model("tenants", "Tenant")
        with schema_context("public"):
            tenant = tenant_model.objects.filter(schema_name=schema_name).first()
        allowed = tenant is not None and (
            tenant.is_operational or (self.runs_when_read_only and tenant.is_read_only)
        )
        if not allowed:
            logger.warning("Skipping %s: schema %s is not operational", self.name, schema_name)
            return None
        with tenant_context(tenant):
            return super().__call__(*args, schema_name=schema_name, **kwargs)


app.conf.beat_schedule = {
    # End lapsed contracts; destroy controllers past their grace period (provisioning queue).
    "contract-end-scan-daily": {
        "task": "tenants.tasks.contract_scan",
        "schedule": crontab(hour=4, minute=15),
        "args": (),
    },
    # Sign each chain's head first, then walk each chain against its checkpoints.
    "checkpoint-audit-chains-nightly": {
        "task": "tenants.tasks.fan_out",
        "schedule": crontab(hour=2, minute=45),
        "args": ("audit.tasks.checkpoint_chain",),
    },
    "verify-audit-chains-nightly": {
        "task": "tenants.tasks.fan_out",
        "schedule": crontab(hour=3, minute=0),
        "args": ("audit.tasks.verify_chain",),
    },
    "expire-abandoned-csv-imports": {
        "task": "tenants.tasks.fan_out",
        "schedule": crontab(minute=20),
        "args": ("subjects.tasks.csv_import_expire",),
    },
    "finish-interrupted-destructions": {
        "task": "tenants.tasks.fan_out",
        "schedule": crontab(minute=35),
        "args": ("subjects.tasks.destruction_resume",),
    },
    "expire-api-idempotency-keys": {
        "task": "tenants.tasks.fan_out",
        "schedule": crontab(minute=40),
        "args": ("subjects.tasks.idempotency_keys_sweep",),
    },
    "expire-destruction-minutes-daily": {
        "task": "tenants.tasks.fan_out",
        "schedule": crontab(hour=4, minute=10),
        "args": ("retention.tasks.minutes_expire",),
    },
    # Periodic destruction: each controller scans when its own interval has passed.
    "dispatch-retention-scans-daily": {
        "task": "tenants.tasks.fan_out",
        "schedule": crontab(hour=1, minute=30),
        "args": ("retention.tasks.scan_dispatch",),
    },
    "resume-stalled-destruction-runs": {
        "task": "tenants.tasks.fan_out",
        "schedule": crontab(minute=25),
        "args": ("retention.tasks.runs_resume",),
    },
    "alert-destruction-backlog-daily": {
        "task": "tenants.tasks.fan_out",
        "schedule": crontab(hour=8, minute=0),
        "args": ("retention.tasks.backlog_alert",),
    },
    # The Board's 72 hours from awareness of a breach (Art. 12(5)): 48, 24, 6 h left, overdue.
    "remind-breach-board-notice": {
        "task": "tenants.tasks.fan_out",
        "schedule": crontab(minute="*/15"),
        "args": ("transfers.tasks.breach_reminders",),
    },
    # A processor breach reaches every affected controller without delay, even past a failed worker.
    "redeliver-processor-breach-notices": {
        "task": "tenants.tasks.processor_breach_redeliver",
        "schedule": crontab(minute="*/15"),
        "args": (),
    },
    # Applications' 30 days (Art. 13(2)): reminders at 7, 3, 1 days left (idempotent, so
    # hourly: a failed hour is caught up), the admins' overdue list, the officers' digest.
    "remind-application-deadlines": {
        "task": "tenants.tasks.fan_out",
        "schedule": crontab(minute=10),
        "args": ("requests.tasks.deadline_reminders",),
    },
    "list-overdue-applications-daily": {
        "task": "tenants.tasks.fan_out",
        "schedule": crontab(hour=8, minute=5),
        "args": ("requests.tasks.overdue_list",),
    },
    "digest-open-applications-weekly": {
        "task": "tenants.tasks.fan_out",
        "schedule": crontab(hour=8, minute=15, day_of_week=1),
        "args": ("requests.tasks.weekly_digest",),
    },
    "remove-orphaned-attachment-files": {
        "task": "tenants.tasks.fan_out",
        "schedule": crontab(minute=50),
        "args": ("subjects.tasks.attachments_sweep",),
    },
}
