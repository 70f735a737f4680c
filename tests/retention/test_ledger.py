"""The ledger of destroyed ids: a restored data backup never brings destroyed data back."""

import os
import subprocess

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from retention import destruction, ledger, scan, selectors
from retention.models import DestroyedBatch, DestructionRun, LedgerMark
from subjects import services
from subjects.crypto import KEYS_DATABASE
from subjects.models import DataSubject, PersonalDataItem, SubjectIdentifier
from tests.conftest import in_thread
from tests.retention.register import approve, item, items_of, rule, subject, years_ago


def _pg(*command: str) -> None:
    """Run a PostgreSQL client against the test's data database, as the owner role."""
    config = connection.settings_dict
    env = {
        **os.environ,
        "PGHOST": str(config["HOST"]),
        "PGPORT": str(config["PORT"]),
        "PGUSER": settings.DB_CREDENTIALS["owner"]["USER"],
        "PGPASSWORD": settings.DB_CREDENTIALS["owner"]["PASSWORD"],
        "PGDATABASE": config["NAME"],
    }
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=120)


def test_the_ledger_names_ids_only_and_the_mark_follows_it(acme):
    with tenant_context(acme):
        rule("contact", period=1)
        person = subject(item("contact", collected=years_ago(3)))
        [expired] = items_of(person)
        run = destruction.run_execute(
            run_id=approve(scan.run_scan(kind=DestructionRun.Kind.PERIODIC)).pk
        )
        [batch] = DestroyedBatch.objects.using(KEYS_DATABASE).filter(run_uuid=run.uuid)
        assert (batch.destroyed_ids, batch.deleted_ids, batch.anonymised_ids) == (
            [expired.pk],
            [],
            [],
        )
        assert (batch.subject_ids, batch.subject_uuids) == ([person.pk], [person.uuid])
        assert {f.name for f in DestroyedBatch._meta.fields} == {
            "id", "schema_name", "run_uuid", "destroyed_at", "deleted_ids", "destroyed_ids",
            "anonymised_ids", "subject_ids", "subject_uuids",
        }  # fmt: skip
        assert LedgerMark.objects.get().applied_through == batch.pk
        assert not ledger.schema_behind()


def test_a_restored_backup_is_refused_until_the_ledger_is_replayed(committed_tenant, tmp_path):
    tenant = committed_tenant("ledgerrestore")
    schema = tenant.schema_name

    def register():
        with tenant_context(tenant):
            rule("contact", period=1)
            gone = subject(item("contact", collected=years_ago(3)))
            kept = subject(item("contact", collected=years_ago(3)), item("identity"))
            return gone.pk, [i.pk for i in items_of(kept)]

    gone_subject, (expired_item, kept_item) = in_thread(register)
    backup = tmp_path / "data.dump"
    _pg("pg_dump", "--format=custom", f"--schema={schema}", f"--file={backup}")

    def destroy():
        with tenant_context(tenant):
            run = approve(scan.run_scan(kind=DestructionRun.Kind.PERIODIC))
            return destruction.run_execute(run_id=run.pk).status

    assert in_thread(destroy) == DestructionRun.Status.DONE

    # the data database is restored from the backup taken before the destruction
    _pg("psql", "-v", "ON_ERROR_STOP=1", "-c", f'DROP SCHEMA "{schema}" CASCADE')
    _pg(
        "pg_restore",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={connection.settings_dict['NAME']}",
        str(backup),
    )

    def state():
        with tenant_context(tenant):
            return (
                PersonalDataItem.objects.filter(pk=expired_item).exists(),
                PersonalDataItem.objects.filter(pk=kept_item).exists(),
                SubjectIdentifier.objects.filter(subject_id=gone_subject).exists(),
                DataSubject.objects.get(pk=gone_subject).key_destroyed_at is not None,
            )

    assert in_thread(state) == (True, True, True, False)  # destroyed data is back
    ledger.ledger_forget(schema)
    browser = Client(HTTP_HOST=tenant.host)
    refused = browser.get("/")
    assert refused.status_code == 503
    assert "destruction_replay" in refused.content.decode()
    api = browser.get("/api/v1/subjects/lookup/")
    assert api.status_code == 503 and api.json()["error"]["code"] == "ledger_behind"

    in_thread(call_command, "destruction_replay", "--schema", schema)

    assert in_thread(state) == (False, True, False, True)
    assert browser.get("/").status_code != 503


def test_a_batch_that_dies_before_its_commit_leaves_the_ledger_ahead_until_it_resumes(
    acme, monkeypatch
):
    with tenant_context(acme):
        rule("contact", period=1)
        person = subject(item("contact", collected=years_ago(3)))
        run = approve(scan.run_scan(kind=DestructionRun.Kind.PERIODIC))
        advance = ledger.mark_advance

        def crash(last_id):
            raise RuntimeError("worker killed")

        monkeypatch.setattr(ledger, "mark_advance", crash)
        with pytest.raises(RuntimeError, match="worker killed"):
            destruction.run_execute(run_id=run.pk)
        # the ledger was written, the data transaction was not: the portal would refuse
        assert items_of(person) and ledger.schema_behind()
        run.refresh_from_db()
        assert selectors.targets_done(run=run) == 0

        monkeypatch.setattr(ledger, "mark_advance", advance)
        run = destruction.run_execute(run_id=run.pk)

        assert run.status == DestructionRun.Status.DONE and not items_of(person)
        assert not ledger.schema_behind()


def test_a_subject_whose_destruction_was_interrupted_is_finished_when_the_run_resumes(
    acme, monkeypatch
):
    with tenant_context(acme):
        rule("contact", period=1)
        person = subject(item("contact", collected=years_ago(3)))
        run = approve(scan.run_scan(kind=DestructionRun.Kind.PERIODIC))
        complete = services.subjects_destruction_complete
        monkeypatch.setattr(
            services,
            "subjects_destruction_complete",
            lambda **kw: (_ for _ in ()).throw(RuntimeError("worker killed")),
        )
        with pytest.raises(RuntimeError, match="worker killed"):
            destruction.run_execute(run_id=run.pk)
        person.refresh_from_db()
        assert person.destruction_requested_at and not person.key_destroyed_at
        assert SubjectIdentifier.objects.filter(subject=person).exists()

        monkeypatch.setattr(services, "subjects_destruction_complete", complete)
        run = destruction.run_execute(run_id=run.pk)

        person.refresh_from_db()
        assert run.status == DestructionRun.Status.DONE and person.key_destroyed_at
        assert not SubjectIdentifier.objects.filter(subject=person).exists()


def test_a_dropped_schemas_ledger_is_forgotten_so_a_new_controller_of_that_name_is_not_behind(
    acme,
):
    with tenant_context(acme):
        rule("contact", period=1)
        subject(item("contact", collected=years_ago(3)))
        destruction.run_execute(run_id=approve(scan.run_scan(kind=DestructionRun.Kind.PERIODIC)).pk)
        schema = connection.schema_name
        # the schema is dropped and a controller of the same name starts afresh: no mark yet
        LedgerMark.objects.all().delete()
        assert ledger.schema_behind()

        removed = ledger.ledger_forget_schema(schema)

        assert removed == 1
        assert not DestroyedBatch.objects.using(KEYS_DATABASE).filter(schema_name=schema).exists()
        assert not ledger.schema_behind()
