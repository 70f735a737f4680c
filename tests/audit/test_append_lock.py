"""Appending to the log never holds the chain lock for a business transaction.

An all-or-nothing CSV import writes audit entries inside one long transaction;
they are linked into the chain only after it commits. Meanwhile another user of
the same controller reads a subject, which writes and links an entry of its own:
that read must not wait for the import (issue 8 asks for under a second).
"""

import csv
import io
import threading
import time

from django.conf import settings
from django.db import connections
from django.urls import reverse
from django_tenants.utils import tenant_context

from accounts.models import Role
from audit.models import Action, AuditEntry, ChainLink
from subjects import csv_import, services, validation
from subjects.models import CsvImport, DataSubject
from tests.conftest import DATABASES, in_thread, portal_client
from tests.factories import staff_create
from tests.subjects.conftest import subject_record

ROWS = 20_000
ITEM = subject_record()["items"][0]


def _csv(rows: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=csv_import.COLUMNS)
    writer.writeheader()
    for n in range(rows):
        writer.writerow(
            {
                "group": "customer",
                "name": f"Müşteri {n}",
                "email": f"musteri{n}@ornek.com.tr",
                **{column: ITEM[column] for column in csv_import.ITEM_COLUMNS if column in ITEM},
            }
        )
    return buffer.getvalue().encode()


def _in_background(function) -> tuple[threading.Thread, dict]:
    """Like in_thread, as the runtime role, but returns at once: (thread, outcome)."""
    outcome: dict = {}

    def run():
        for alias in DATABASES:
            config = {**connections.settings[alias], **settings.DB_CREDENTIALS["runtime"]}
            connections[alias] = connections[alias].__class__(config, alias)
        try:
            outcome["value"] = function()
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            for alias in DATABASES:
                connections[alias].close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_a_read_finishes_within_a_second_while_a_20000_row_import_runs(committed_tenant):
    # given a controller with a subject, a reader, and a clean 20,000-row file previewed
    tenant = committed_tenant("lockco")

    def prepare() -> tuple[str, int]:
        with tenant_context(tenant):
            staff_create(schema="lockco", username="reader", role=Role.REQUEST_OFFICER)
            importer = staff_create(
                schema="lockco", username="importer", role=Role.CONTROLLER_ADMIN
            )
            inputs = validation.records_validate(records=[subject_record()])
            services.register_ingest(inputs=inputs, actor_label="setup", source="test")
            subject = DataSubject.objects.get()
            job = csv_import.csv_import_preview(
                file_name="musteriler.csv", data=_csv(ROWS), created_by=importer
            )
            assert job.valid_rows == ROWS
            # what confirming all-or-nothing leaves for the worker (without queueing a task)
            CsvImport.objects.filter(pk=job.pk).update(
                mode=CsvImport.Mode.ALL_OR_NOTHING, status=CsvImport.Status.QUEUED
            )
            return str(subject.uuid), job.pk

    subject_uuid, job_id = in_thread(prepare)

    def run_import():
        with tenant_context(tenant):
            return csv_import.csv_import_execute(job_id=job_id)

    importer, outcome = _in_background(run_import)
    try:
        # when the import is inside its transaction, past its first batch
        deadline = time.monotonic() + 120
        while True:
            with tenant_context(tenant):
                job = csv_import.csv_import_progress(job=CsvImport.objects.get(pk=job_id))
            if job.status == CsvImport.Status.RUNNING and job.processed_rows > 0:
                break
            assert importer.is_alive() and time.monotonic() < deadline, outcome
            time.sleep(0.05)

        def read() -> tuple[float, int]:
            client = portal_client(tenant, "reader")
            began = time.perf_counter()
            response = client.post(
                reverse("subjects:detail", args=[subject_uuid]),
                {"purpose": "Başvuru 2026/17 yanıtı"},
                HTTP_HOST=tenant.host,
            )
            assert response.status_code == 302, response.status_code
            page = client.get(response["Location"], HTTP_HOST=tenant.host)
            elapsed = time.perf_counter() - began
            assert page.status_code == 200
            with tenant_context(tenant):
                entry = AuditEntry.objects.filter(action=Action.READ).latest("id")
                linked = ChainLink.objects.filter(entry=entry).exists()
            return elapsed, linked

        elapsed, linked = in_thread(read)

        def import_state() -> tuple[str, int]:
            with tenant_context(tenant):
                job = csv_import.csv_import_progress(job=CsvImport.objects.get(pk=job_id))
                return job.status, job.processed_rows

        status, processed = in_thread(import_state)
    finally:
        importer.join(timeout=600)

    # then the read was served, its entry linked, in under a second, the import still running
    assert status == CsvImport.Status.RUNNING and processed < ROWS, (status, processed)
    assert linked
    assert elapsed < 1.0, f"the read took {elapsed:.2f} s while the import ran"
    assert "error" not in outcome, outcome.get("error")
    finished = outcome["value"]
    assert (finished.status, finished.imported_subjects) == (CsvImport.Status.DONE, ROWS)
