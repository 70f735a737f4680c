"""Periodic runs in the workers: the dispatcher keeps each controller's interval, scans,
automatic execution, the lock that keeps two workers apart, failures and stalled runs."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from config.celery import app as celery_app
from retention import runs
from retention.models import DestructionRun, RetentionSettings
from retention.tasks import execute, runs_resume, scan, scan_dispatch
from subjects.models import PersonalDataItem
from tests.retention.conftest import contact_rule, register_fill, run_create

pytestmark = pytest.mark.django_db

Status = DestructionRun.Status


def _interval(months: int, *, auto_execute: bool = False) -> None:
    RetentionSettings.objects.update_or_create(
        singleton=True, defaults={"interval_months": months, "auto_execute": auto_execute}
    )


# --- the dispatcher -------------------------------------------------------------------


def test_beat_dispatches_scans_daily_and_sweeps_and_alerts_through_fan_out():
    schedule = {
        entry["args"][0]: entry
        for entry in celery_app.conf.beat_schedule.values()
        if entry["task"] == "tenants.tasks.fan_out"
    }
    assert "retention.tasks.scan_dispatch" in schedule
    assert "retention.tasks.runs_resume" in schedule
    assert "retention.tasks.backlog_alert" in schedule


def test_a_controller_that_never_had_a_periodic_run_is_scanned(acme, sent_tasks):
    assert scan_dispatch.apply(kwargs={"schema_name": "acme"}).get() is True
    assert sent_tasks == [("retention.tasks.scan", {"schema_name": "acme"})]


def test_the_dispatcher_waits_until_the_controllers_interval_has_passed(acme, sent_tasks):
    with tenant_context(acme):
        _interval(6)
        run_create(status=Status.DONE, days_ago=60)  # two months ago

    assert scan_dispatch.apply(kwargs={"schema_name": "acme"}).get() is False
    assert sent_tasks == []

    with tenant_context(acme):
        _interval(1)  # now a month is the controller's interval: two months have passed
    assert scan_dispatch.apply(kwargs={"schema_name": "acme"}).get() is True
    assert sent_tasks == [("retention.tasks.scan", {"schema_name": "acme"})]


def test_a_cancelled_or_failed_scan_does_not_count_as_the_last_run(acme, sent_tasks):
    with tenant_context(acme):
        run_create(status=Status.DONE, days_ago=200)
        run_create(status=Status.CANCELLED, days_ago=5)
        run_create(status=Status.FAILED, days_ago=3)
        assert runs.periodic_run_next_at() < timezone.now()

    assert scan_dispatch.apply(kwargs={"schema_name": "acme"}).get() is True


def test_no_new_scan_beside_a_dry_run_awaiting_approval(acme, sent_tasks):
    with tenant_context(acme):
        run_create(status=Status.DRY_RUN, days_ago=200)

    assert scan_dispatch.apply(kwargs={"schema_name": "acme"}).get() is False
    assert sent_tasks == []


def test_the_dispatcher_of_one_controller_leaves_another_alone(acme, globex, sent_tasks):
    with tenant_context(globex):
        run_create(status=Status.DONE, days_ago=1)

    scan_dispatch.apply(kwargs={"schema_name": "acme"}).get()
    scan_dispatch.apply(kwargs={"schema_name": "globex"}).get()

    assert sent_tasks == [("retention.tasks.scan", {"schema_name": "acme"})]


# --- the interval limit --------------------------------------------------------------


def test_a_seven_month_interval_is_refused(acme):
    # The settings form's message is the settings service's; here the model and the database.
    with tenant_context(acme):
        with pytest.raises(ValidationError) as invalid:
            RetentionSettings(interval_months=7).full_clean()
        assert "interval_months" in invalid.value.message_dict
        RetentionSettings(interval_months=6).full_clean()
        with pytest.raises(IntegrityError), transaction.atomic():
            RetentionSettings.objects.create(interval_months=7)


def test_the_interval_defaults_to_six_months(acme):
    with tenant_context(acme):
        assert runs.retention_settings_read().interval_months == 6
        last = run_create(status=Status.DONE)
        assert runs.periodic_run_next_at() == last.created_at + runs.relativedelta(months=6)


# --- scans and automatic execution ------------------------------------------------------


def test_a_scan_stops_at_a_dry_run_without_automatic_execution(
    acme, sent_tasks, django_capture_on_commit_callbacks
):
    with tenant_context(acme):
        contact_rule()
        register_fill(2)

    with django_capture_on_commit_callbacks(execute=True):
        run_id = scan.apply(kwargs={"schema_name": "acme"}).get()

    with tenant_context(acme):
        run = DestructionRun.objects.get(pk=run_id)
        assert run.status == Status.DRY_RUN
        assert run.kind == DestructionRun.Kind.PERIODIC
        assert PersonalDataItem.objects.count() == 2
    assert sent_tasks == []


def test_automatic_execution_approves_the_scan_and_queues_its_execution(
    acme, sent_tasks, django_capture_on_commit_callbacks
):
    with tenant_context(acme):
        _interval(3, auto_execute=True)
        contact_rule()
        register_fill(2)

    with django_capture_on_commit_callbacks(execute=True):
        run_id = scan.apply(kwargs={"schema_name": "acme"}).get()

    with tenant_context(acme):
        run = DestructionRun.objects.get(pk=run_id)
        assert run.status == Status.APPROVED
        assert run.executed_automatically is True
        assert run.approved_by is None and run.approved_at is not None
    assert sent_tasks == [("retention.tasks.execute", {"schema_name": "acme", "run_id": run_id})]
    assert execute.apply(kwargs=sent_tasks[0][1]).get() == Status.DONE
    with tenant_context(acme):
        assert PersonalDataItem.objects.count() == 0


def test_a_new_scan_supersedes_a_dry_run_nobody_approved(acme):
    with tenant_context(acme):
        old = run_create(status=Status.DRY_RUN, days_ago=3)
    new_id = scan.apply(kwargs={"schema_name": "acme"}).get()
    with tenant_context(acme):
        old.refresh_from_db()
        assert old.status == Status.CANCELLED
        assert DestructionRun.objects.get(pk=new_id).status == Status.DRY_RUN


def test_a_scan_that_raises_leaves_a_failed_run_with_the_reason(acme, monkeypatch):
    with tenant_context(acme):
        waiting = run_create(status=Status.DRY_RUN, days_ago=3)

    def broken(**kwargs):
        raise RuntimeError("rules could not be read")

    monkeypatch.setattr(runs, "run_scan", broken)
    result = scan.apply(kwargs={"schema_name": "acme"})

    assert result.failed()
    with tenant_context(acme):
        failed = DestructionRun.objects.get(status=Status.FAILED)
        assert "rules could not be read" in failed.failure
        waiting.refresh_from_db()
        assert waiting.status == Status.DRY_RUN  # still there to approve


# --- execution, the lock, failures -------------------------------------------------------


@pytest.fixture
def approved_run(acme):
    with tenant_context(acme):
        contact_rule()
        register_fill(3)
        run = runs.run_scan(kind=DestructionRun.Kind.PERIODIC)
        DestructionRun.objects.filter(pk=run.pk).update(
            status=Status.APPROVED, approved_at=timezone.now()
        )
        return run


def test_two_executions_never_run_one_controller_at_once(acme, approved_run, monkeypatch):
    calls = []
    monkeypatch.setattr(runs, "run_execute", lambda run_id: calls.append(run_id))

    # given another worker holds acme's lock (its own connection)
    with runs.controller_lock(schema_name="acme") as held:
        assert held
        # when a second execution of the run arrives
        outcome = execute.apply(kwargs={"schema_name": "acme", "run_id": approved_run.pk}).get()
        # and the lock is the controller's only: globex is not held up
        with runs.controller_lock(schema_name="globex") as globex_free:
            assert globex_free

    # then it does not execute beside the first
    assert outcome == "busy"
    assert calls == []
    with tenant_context(acme):
        approved_run.refresh_from_db()
        assert approved_run.status == Status.APPROVED


def test_the_lock_is_free_again_once_its_holder_is_gone(acme, approved_run):
    with runs.controller_lock(schema_name="acme") as first:
        assert first
    with runs.controller_lock(schema_name="acme") as again:
        assert again
    assert execute.apply(kwargs={"schema_name": "acme", "run_id": approved_run.pk}).get() == (
        Status.DONE
    )


def test_executing_a_finished_run_again_changes_nothing(acme, approved_run):
    execute.apply(kwargs={"schema_name": "acme", "run_id": approved_run.pk}).get()
    with tenant_context(acme):
        minutes_before = approved_run.__class__.objects.get(pk=approved_run.pk).minutes.pk

    assert execute.apply(kwargs={"schema_name": "acme", "run_id": approved_run.pk}).get() == (
        Status.DONE
    )
    with tenant_context(acme):
        assert DestructionRun.objects.get(pk=approved_run.pk).minutes.pk == minutes_before


def test_a_run_that_fails_is_marked_failed_with_the_reason(acme, approved_run, monkeypatch):
    def broken(*, run_id):
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs, "run_execute", broken)
    result = execute.apply(kwargs={"schema_name": "acme", "run_id": approved_run.pk})

    assert result.failed()
    with tenant_context(acme):
        approved_run.refresh_from_db()
        assert approved_run.status == Status.FAILED
        assert "disk full" in approved_run.failure


def test_a_stalled_run_is_queued_again_by_the_hourly_sweep(acme, sent_tasks):
    long_ago = timezone.now() - timedelta(hours=2)
    with tenant_context(acme):
        stalled = run_create(status=Status.RUNNING, approved_at=long_ago, started_at=long_ago)
        DestructionRun.objects.filter(pk=stalled.pk).update(created_at=long_ago)
        run_create(status=Status.APPROVED, approved_at=timezone.now())  # just approved
        scanning = run_create(status=Status.SCANNING)
        DestructionRun.objects.filter(pk=scanning.pk).update(created_at=long_ago)

    assert runs_resume.apply(kwargs={"schema_name": "acme"}).get() == [stalled.pk]

    assert sent_tasks == [
        ("retention.tasks.execute", {"schema_name": "acme", "run_id": stalled.pk})
    ]
    with tenant_context(acme):
        scanning.refresh_from_db()
        assert scanning.status == Status.FAILED
        assert scanning.failure
