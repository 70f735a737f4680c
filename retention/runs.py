"""Periodic destruction runs (periyodik imha): when a scan is due, approval, cancellation,
retry and failure of a run, and the per-controller lock that keeps two workers apart.

Regulation on the deletion, destruction and anonymisation of personal data, Art. 11: the
controller destroys data past its retention in periodic runs at most six months apart
(config.kvkk.DESTRUCTION_INTERVAL_MAX_MONTHS; RetentionSettings and the settings service
refuse more). A scan produces a dry run; a controller admin approves it after re-entering a
current code of their authenticator (recent authentication), or the controller lets its runs
execute automatically. The engine (retention.scan, retention.destruction) does the scanning
and the destroying; this module decides when and under whose approval.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from accounts.second_factor import authenticator_code_check
from audit.models import Action
from audit.services import audit_entry_create
from config.celery import app
from config.errors import PortalError
from retention.destruction import run_execute
from retention.models import DestructionRun, RetentionSettings
from retention.scan import run_scan

logger = logging.getLogger(__name__)

Status = DestructionRun.Status

ONLY_ADMINS = _("Only a controller admin can approve, cancel, retry or start destruction runs.")
NOT_AWAITING_APPROVAL = _("This run no longer awaits approval.")
NOT_CANCELLABLE = _("Only a run awaiting approval or a failed run can be cancelled.")
NOT_FAILED = _("Only a failed run can be retried.")
SCAN_INTERRUPTED = _("The scan was interrupted before it finished. Start a new scan.")

# A run in these states is under way: the dispatcher starts no new periodic scan beside it.
OPEN_STATUSES = (Status.DRY_RUN, Status.APPROVED, Status.RUNNING)
# A periodic run in these states counts as the controller's last periodic run.
COUNTED_STATUSES = (*OPEN_STATUSES, Status.DONE)

# pg_try_advisory_lock(class, object): class "RUNS", object the schema name's hash.
_LOCK_CLASS = 0x52554E53


def retention_settings_read() -> RetentionSettings:
    """The controller's settings, read without storing anything (the dashboard reads them on
    every visit): the defaults, every 6 months with approval, until it saves its own."""
    return RetentionSettings.objects.first() or RetentionSettings()


def months_after(moment: datetime, months: int) -> datetime:
    return moment + relativedelta(months=months)


def periodic_run_last() -> DestructionRun | None:
    """The controller's last periodic run that was not cancelled, did not fail and was scanned."""
    return (
        DestructionRun.objects.filter(
            kind=DestructionRun.Kind.PERIODIC, status__in=COUNTED_STATUSES
        )
        .order_by("-created_at")
        .first()
    )


def periodic_run_next_at(*, last: DestructionRun | None = None) -> datetime | None:
    """When the next periodic scan is due: the last one plus the interval (None: never ran)."""
    last = last if last is not None else periodic_run_last()
    if last is None:
        return None
    return months_after(last.created_at, retention_settings_read().interval_months)


def periodic_scan_due(*, now: datetime | None = None) -> bool:
    """True when the controller's interval has passed since its last periodic run (or it never
    had one) and no run of it awaits approval or is being executed."""
    now = now or timezone.now()
    if DestructionRun.objects.filter(status__in=OPEN_STATUSES).exists():
        return False
    next_at = periodic_run_next_at()
    return next_at is None or next_at <= now


def _admin_check(user: User) -> None:
    if not (user.is_active and user.role == Role.CONTROLLER_ADMIN):
        raise PortalError(ONLY_ADMINS, code="not_admin", status=403)


def _execute_queue(run: DestructionRun) -> None:
    schema_name = connection.schema_name
    transaction.on_commit(
        lambda: app.send_task(
            "retention.tasks.execute", kwargs={"schema_name": schema_name, "run_id": run.pk}
        )
    )


def _locked(run: DestructionRun) -> DestructionRun:
    return DestructionRun.objects.select_for_update().get(pk=run.pk)


def run_approve(*, run: DestructionRun, user: User, token: str, request=None) -> DestructionRun:
    """A controller admin approves a dry run with a current authenticator code; workers then
    execute it. A wrong code changes nothing."""
    _admin_check(user)
    if run.status != Status.DRY_RUN:
        raise PortalError(NOT_AWAITING_APPROVAL, code="not_dry_run", status=409)
    # Outside the approval's transaction, so a wrong code still counts for the throttle.
    authenticator_code_check(user=user, token=token)
    with transaction.atomic():
        run = _locked(run)
        if run.status != Status.DRY_RUN:
            raise PortalError(NOT_AWAITING_APPROVAL, code="not_dry_run", status=409)
        run.status, run.approved_at, run.approved_by = Status.APPROVED, timezone.now(), user
        run.save(update_fields=["status", "approved_at", "approved_by"])
        audit_entry_create(
            action=Action.UPDATE,
            actor=user,
            target=run,
            detail={"event": "destruction_run_approved", "run": str(run.uuid)},
            request=request,
        )
        _execute_queue(run)
    return run


def _auto_approve(run: DestructionRun) -> DestructionRun:
    """The controller opted into automatic execution: the scan approves its own dry run."""
    with transaction.atomic():
        run = _locked(run)
        if run.status != Status.DRY_RUN:
            return run
        run.status, run.approved_at = Status.APPROVED, timezone.now()
        run.executed_automatically = True
        run.save(update_fields=["status", "approved_at", "executed_automatically"])
        audit_entry_create(
            action=Action.UPDATE,
            target=run,
            detail={"event": "destruction_run_approved_automatically", "run": str(run.uuid)},
        )
        _execute_queue(run)
    return run


@transaction.atomic
def run_cancel(*, run: DestructionRun, user: User, request=None) -> DestructionRun:
    """A controller admin drops a dry run (or a failed run): nothing of it is destroyed."""
    _admin_check(user)
    run = _locked(run)
    if run.status not in (Status.DRY_RUN, Status.FAILED):
        raise PortalError(NOT_CANCELLABLE, code="not_cancellable", status=409)
    run.status = Status.CANCELLED
    run.save(update_fields=["status"])
    audit_entry_create(
        action=Action.UPDATE,
        actor=user,
        target=run,
        detail={"event": "destruction_run_cancelled", "run": str(run.uuid)},
        request=request,
    )
    return run


@transaction.atomic
def run_retry(*, run: DestructionRun, user: User, request=None) -> DestructionRun:
    """A controller admin retries a failed run: an approved one resumes where it stopped (the
    engine skips what is done); one that failed while scanning is replaced by a new scan."""
    _admin_check(user)
    run = _locked(run)
    if run.status != Status.FAILED:
        raise PortalError(NOT_FAILED, code="not_failed", status=409)
    if run.approved_at is None:
        run.status = Status.CANCELLED
        run.save(update_fields=["status"])
        scan_request(user=user, request=request)
    else:
        run.status = Status.RUNNING if run.started_at else Status.APPROVED
        run.failure = ""
        run.save(update_fields=["status", "failure"])
        _execute_queue(run)
    audit_entry_create(
        action=Action.UPDATE,
        actor=user,
        target=run,
        detail={"event": "destruction_run_retried", "run": str(run.uuid)},
        request=request,
    )
    return run


def scan_request(*, user: User, request=None) -> None:
    """A controller admin asks for a scan now, without waiting for the interval."""
    _admin_check(user)
    schema_name = connection.schema_name
    transaction.on_commit(
        lambda: app.send_task(
            "retention.tasks.scan",
            kwargs={"schema_name": schema_name, "created_by_id": user.pk},
        )
    )


def run_fail(*, run_id: int, reason: str) -> None:
    """Mark a run failed with why, for the portal to show and a controller admin to retry."""
    DestructionRun.objects.filter(pk=run_id).exclude(
        status__in=(Status.DONE, Status.CANCELLED)
    ).update(status=Status.FAILED, failure=reason[:2000])


@contextmanager
def controller_lock(*, schema_name: str) -> Iterator[bool]:
    """Yield True when this process holds the controller's run lock, False when another does.

    A PostgreSQL session advisory lock on a connection of its own: the lock is not tied to
    any transaction of the work it guards, and PostgreSQL drops it as soon as the connection
    dies, so a worker killed mid-run never leaves it behind.
    """
    params = connections["default"].settings_dict
    lock_connection = connection.Database.connect(
        dbname=params["NAME"],
        user=params["USER"],
        password=params["PASSWORD"] or None,
        host=params["HOST"],
        port=params["PORT"] or None,
        autocommit=True,
        application_name=f"retention-lock-{schema_name}",
    )
    try:
        with lock_connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_lock(%s, hashtext(%s))", [_LOCK_CLASS, schema_name]
            )
            acquired = cursor.fetchone()[0]
        yield acquired
    finally:
        lock_connection.close()  # closing the session releases its advisory locks


def periodic_scan(*, created_by: User | None = None) -> DestructionRun | None:
    """Scan the current controller for items past retention: a dry run, approved at once when
    the controller executes automatically. None when another worker holds the controller."""
    schema_name = connection.schema_name
    with controller_lock(schema_name=schema_name) as acquired:
        if not acquired:
            logger.info("Scan skipped: another worker is running this controller's destruction")
            return None
        try:
            run = run_scan(kind=DestructionRun.Kind.PERIODIC, created_by=created_by)
        except Exception as exc:
            # Any failure is shown to the controller as a failed run before the task fails.
            DestructionRun.objects.create(
                kind=DestructionRun.Kind.PERIODIC,
                status=Status.FAILED,
                created_by=created_by,
                failure=_failure_text(exc),
            )
            raise
        # A newer scan supersedes dry runs nobody approved: one list of targets at a time.
        DestructionRun.objects.filter(
            kind=DestructionRun.Kind.PERIODIC, status=Status.DRY_RUN
        ).exclude(pk=run.pk).update(status=Status.CANCELLED)
    if retention_settings_read().auto_execute:
        run = _auto_approve(run)
    return run


def _failure_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def run_execute_locked(*, run_id: int) -> str:
    """Execute an approved run under the controller's lock; a run that raises is marked failed.

    Returns the run's status, or "busy" when another worker holds the controller (it is
    executing this run or scanning; the hourly sweep queues the run again if it stalls).
    """
    with controller_lock(schema_name=connection.schema_name) as acquired:
        if not acquired:
            return "busy"
        run = DestructionRun.objects.get(pk=run_id)
        if run.status not in (Status.APPROVED, Status.RUNNING):
            return run.status
        try:
            run = run_execute(run_id=run_id)
        except Exception as exc:
            # Whatever went wrong, the portal shows the run as failed, with why, for a retry.
            logger.exception("Destruction run %s failed", run_id)
            run_fail(run_id=run_id, reason=_failure_text(exc))
            raise
        return run.status


def runs_stalled(*, now: datetime | None = None):
    """Approved or running runs without progress for RETENTION_STALLED_MINUTES."""
    now = now or timezone.now()
    since = now - timedelta(minutes=settings.RETENTION_STALLED_MINUTES)
    return (
        DestructionRun.objects.filter(status__in=(Status.APPROVED, Status.RUNNING))
        .annotate(
            last_moved_at=Greatest(
                Coalesce("approved_at", "created_at"),
                Coalesce("started_at", "created_at"),
                Coalesce("progress_at", "created_at"),
            )
        )
        .filter(last_moved_at__lt=since)
        .order_by("pk")
    )


def runs_resume(*, now: datetime | None = None) -> list[int]:
    """Queue stalled runs again (their worker died and the broker has not redelivered yet),
    and mark scans that were interrupted as failed. Returns the ids of the runs queued."""
    now = now or timezone.now()
    stalled = list(runs_stalled(now=now).values_list("pk", flat=True))
    schema_name = connection.schema_name
    for run_id in stalled:
        app.send_task(
            "retention.tasks.execute", kwargs={"schema_name": schema_name, "run_id": run_id}
        )
    with controller_lock(schema_name=schema_name) as acquired:
        if acquired:  # nobody is scanning now, so a run still scanning was cut short
            since = now - timedelta(minutes=settings.RETENTION_STALLED_MINUTES)
            DestructionRun.objects.filter(
                Q(status=Status.SCANNING) & Q(created_at__lt=since)
            ).update(status=Status.FAILED, failure=str(SCAN_INTERRUPTED))
    return stalled
