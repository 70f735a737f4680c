"""CSV import into the register: parse, preview with per-row errors, then run (KVKK Art. 12).

One row is one personal-data item of one subject; rows sharing an identifier
value belong to the same subject. Every row goes through the register's own
validation (subjects.services), so a CSV can do nothing the API could not.
Nothing is written before the user confirms, and an all-or-nothing import
either stores every row or none.
"""

import csv
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from audit.models import Action
from audit.services import audit_entry_create
from config.celery import app
from config.errors import PortalError
from subjects import services, validation
from subjects.crypto import keyring
from subjects.models import CsvImport, IdentifierKind

ITEM_COLUMNS = [
    "category", "purpose", "legal_basis", "source_system", "value", "collected_at", "last_used_at",
]  # fmt: skip
# Columns a file may leave out; a subject-level one is taken, like group and name, from the
# first of the subject's rows that fills it. An empty cell keeps the stored value.
# A row filling consent_given_at also records the subject's explicit consent for the row's
# purpose (C10); a row with only the purpose and the consent columns records just the consent.
CONSENT_COLUMNS = ["consent_given_at", "consent_channel", "consent_reference", "notice_version"]
OPTIONAL_COLUMNS = ["relationship_ended_at", *CONSENT_COLUMNS]
COLUMNS = ["group", "name", *IdentifierKind.values, *ITEM_COLUMNS, *OPTIONAL_COLUMNS]
# Each column's header in the user's language. Files may use the headers of any language
# the portal speaks (compared without case and Turkish letters), and messages name the
# column as the user's own template does.
HEADERS = {
    "group": pgettext_lazy("CSV column", "group"),
    "name": pgettext_lazy("CSV column", "name"),
    "tckn": pgettext_lazy("CSV column", "tckn"),
    "passport": pgettext_lazy("CSV column", "passport"),
    "email": pgettext_lazy("CSV column", "email"),
    "phone": pgettext_lazy("CSV column", "phone"),
    "customer_no": pgettext_lazy("CSV column", "customer_no"),
    "category": pgettext_lazy("CSV column", "category"),
    "purpose": pgettext_lazy("CSV column", "purpose"),
    "legal_basis": pgettext_lazy("CSV column", "legal_basis"),
    "source_system": pgettext_lazy("CSV column", "source_system"),
    "value": pgettext_lazy("CSV column", "value"),
    "collected_at": pgettext_lazy("CSV column", "collected_at"),
    "last_used_at": pgettext_lazy("CSV column", "last_used_at"),
    "relationship_ended_at": pgettext_lazy("CSV column", "relationship_ended_at"),
    "consent_given_at": pgettext_lazy("CSV column", "consent_given_at"),
    "consent_channel": pgettext_lazy("CSV column", "consent_channel"),
    "consent_reference": pgettext_lazy("CSV column", "consent_reference"),
    "notice_version": pgettext_lazy("CSV column", "notice_version"),
}
# A consent's field (subjects.validation.consent_check) → its CSV column
CONSENT_FIELD_COLUMNS = {
    "purpose": "purpose",
    "channel": "consent_channel",
    "given_at": "consent_given_at",
    "evidence_reference": "consent_reference",
    "notice_version": "notice_version",
}
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
# Subjects per register_ingest call: the API's bulk limit, for the same memory bounds.
BATCH_SUBJECTS = 1000
# An upload is kept sealed only while someone may still confirm or run it (Art. 7: data is
# erased once the purpose it was kept for is gone); later the sweep ends the import.
PREVIEW_LIFETIME = timedelta(days=1)
# Far beyond the longest run (100,000 rows take well under a minute): a job queued or running
# this long lost its worker or its queue.
RUN_LIFETIME = timedelta(hours=6)

logger = logging.getLogger(__name__)

NOT_UTF8 = _("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again.")
TOO_LARGE = _("The file is larger than %(limit)s MB.")
TOO_MANY_ROWS = _("The file has more than %(limit)s rows; split it into smaller files.")
EMPTY_FILE = _("The file has no data rows.")
BAD_HEADER = _("The header row must name these columns: %(columns)s. Missing: %(missing)s.")
COLUMN_TWICE = _("The header row names the column %(column)s twice.")
UNREADABLE = _("Line %(line)s of the file is not valid CSV; check its quotation marks.")
FORMULA_CELL = _("The cell starts with a formula character (= + - @); formulas are not accepted.")
INVALID_ROWS_EXIST = _(
    "There are invalid rows: an all-or-nothing import cannot run. Fix the file or import the valid rows only."
)
NOT_PREVIEWED = _("This import has already been confirmed or cancelled.")
NOTHING_VALID = _("No row is valid; there is nothing to import.")
IDENTIFIER_MISMATCH = _(
    "Rows that share an identifier belong to one data subject, but row %(row)s gives a "
    "different %(kind)s."
)
RELATIONSHIP_END_MISMATCH = _(
    "Rows that share an identifier belong to one data subject, but row %(row)s gives a "
    "different end of the customer relationship."
)
IMPORT_RACED = _(
    "Another write stored one of the file's identifiers for a different data subject at the "
    "same moment. Nothing was imported; upload the file again."
)
PREVIEW_EXPIRED = _("Not confirmed within a day; the uploaded file was deleted.")
RUN_ABANDONED = _("The import did not finish within six hours; the uploaded file was deleted.")
RUN_CRASHED = _("The import stopped because of an internal error after %(done)s rows.")

# A leading + or - is a number (or a phone number), not a formula, when digits follow.
_SIGNED_NUMBER = re.compile(r"^[+-][\d\s().]+$")
_IDENTIFIER_COLUMNS = list(IdentifierKind.values)
_FOLD = str.maketrans(
    {"ç": "c", "ğ": "g", "ı": "i", "ö": "o", "ş": "s", "ü": "u", " ": "_", "-": "_"}
)


def _fold(header: str) -> str:
    """A header as compared: no case, no Turkish letters ("Müşteri No" == "musteri_no")."""
    return header.strip().replace("İ", "i").lower().replace("\u0307", "").translate(_FOLD)


def header(column: str) -> str:
    """The column's header in the active language; ``identifiers`` names every identifier column."""
    if column == "identifiers":
        return " / ".join(str(HEADERS[kind]) for kind in _IDENTIFIER_COLUMNS)
    return str(HEADERS.get(column, column))


def headers() -> list[str]:
    """The header row of the template, in the active language."""
    return [header(column) for column in COLUMNS]


def _known_headers() -> dict[str, str]:
    """Folded header → column, for the headers of every language the portal speaks."""
    known = {_fold(column): column for column in COLUMNS}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            known.update({_fold(str(label)): column for column, label in HEADERS.items()})
    return known


def formula_risk(cell: str) -> bool:
    """Cells a spreadsheet would run as a formula (CSV injection), as one rule for import and export."""
    if not cell:
        return False
    if cell[0] in "=@\t\r":
        return True
    return cell[0] in "+-" and not _SIGNED_NUMBER.match(cell)


def formula_safe(cell: Any) -> str:
    text = "" if cell is None else str(cell)
    return "'" + text if text and (text[0] in "=+-@\t\r") else text


@dataclass
class Group:
    """Rows that share an identifier: one subject with its items."""

    rows: list[int] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)
    # the row each subject-level value (group, name, each identifier) came from
    origin: dict[str, int] = field(default_factory=dict)


def parse(data: bytes) -> list[dict[str, str]]:
    """Decode and split the file; refuse what is not UTF-8 CSV with the expected header."""
    if len(data) > MAX_BYTES:
        raise PortalError(
            TOO_LARGE % {"limit": MAX_BYTES // (1024 * 1024)}, code="too_large", field="file"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PortalError(NOT_UTF8, code="not_utf8", field="file") from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start_line = 1
    try:
        reader.fieldnames = _columns_of(reader.fieldnames or [])
        rows = []
        start_line = reader.line_num + 1
        for row in reader:
            rows.append({name: (row.get(name) or "").strip() for name in COLUMNS})
            if len(rows) > MAX_ROWS:
                raise PortalError(
                    TOO_MANY_ROWS % {"limit": MAX_ROWS}, code="too_many_rows", field="file"
                )
            start_line = reader.line_num + 1
    except csv.Error as exc:
        # the line where the broken record starts, which is where the user must look
        raise PortalError(
            UNREADABLE % {"line": start_line}, code="unreadable", field="file"
        ) from exc
    if not rows:
        raise PortalError(EMPTY_FILE, code="empty", field="file")
    return rows


def _columns_of(names: list[str]) -> list[str]:
    """The header row as columns, whichever language it is in; unknown headers are ignored."""
    known = _known_headers()
    columns = []
    for position, name in enumerate(names):
        column = known.get(_fold(name or ""))
        if column in columns:
            raise PortalError(
                COLUMN_TWICE % {"column": header(column)}, code="bad_header", field="file"
            )
        columns.append(column or f"#ignored-{position}")
    missing = [
        header(column)
        for column in COLUMNS
        if column not in columns and column not in OPTIONAL_COLUMNS
    ]
    if missing:
        raise PortalError(
            BAD_HEADER % {"columns": ", ".join(headers()), "missing": ", ".join(missing)},
            code="bad_header",
            field="file",
        )
    return columns


def _linked(identifiers: list[dict[str, str]]) -> list[list[int]]:
    """Row indexes joined by shared normalised identifiers, also through other rows (union-find)."""
    parent = list(range(len(identifiers)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    first_row_with: dict[tuple[str, str], int] = {}
    for index, found in enumerate(identifiers):
        for key in found.items():
            if key not in first_row_with:
                first_row_with[key] = index
                continue
            a, b = root(first_row_with[key]), root(index)
            # the smaller index stays the root, so each set is keyed by its first row
            parent[max(a, b)] = min(a, b)
    sets: dict[int, list[int]] = {}
    for index in range(len(identifiers)):
        sets.setdefault(root(index), []).append(index)
    return [sets[first] for first in sorted(sets)]


def group_rows(
    rows: list[dict[str, str]],
    identifiers: list[dict[str, str]],
    add: Callable[[int, str, Any], None],
) -> list[Group]:
    """One subject per set of rows sharing an identifier; the first non-empty group and name win.

    Identifiers are compared normalised (``Ayse@X.com`` and ``ayse@x.com`` are one e-mail),
    because register_ingest refuses the same identifier in two records of a batch. A row
    that would give the subject a second, different value of a kind is an error: merging
    it silently would file one person's data under another.
    """
    groups = []
    for indexes in _linked(identifiers):
        group = Group(rows=[index + 2 for index in indexes])
        merged: dict[str, str] = {}
        for index in indexes:
            for kind, value in identifiers[index].items():
                if kind not in merged:
                    merged[kind], group.origin[kind] = value, index + 2
                elif merged[kind] != value:
                    kind_label = IdentifierKind(kind).label
                    add(
                        index + 2,
                        kind,
                        IDENTIFIER_MISMATCH % {"row": group.origin[kind], "kind": kind_label},
                    )
        subject: dict[str, str] = {}
        for column in ("group", "name"):
            giving = next((index for index in indexes if rows[index][column]), indexes[0])
            subject[column], group.origin[column] = rows[giving][column], giving + 2
        consents = [
            {
                "purpose": rows[index]["purpose"],
                **{
                    field: rows[index][column]
                    for field, column in CONSENT_FIELD_COLUMNS.items()
                    if field != "purpose"
                },
                "row": index + 2,
            }
            for index in indexes
            if any(rows[index][column] for column in CONSENT_COLUMNS)
        ]
        consenting = {consent["row"] for consent in consents}
        items = [
            {**{column: rows[index][column] for column in ITEM_COLUMNS}, "row": index + 2}
            for index in indexes
            if any(rows[index][column] for column in ITEM_COLUMNS if column != "purpose")
            or (rows[index]["purpose"] and index + 2 not in consenting)
        ]
        group.record = {**subject, "identifiers": merged, "items": items, "consents": consents}
        giving = next((index for index in indexes if rows[index]["relationship_ended_at"]), None)
        if giving is not None:
            ended = rows[giving]["relationship_ended_at"]
            group.record["relationship_ended_at"] = ended
            group.origin["relationship_ended_at"] = giving + 2
            for index in indexes:
                if rows[index]["relationship_ended_at"] not in ("", ended):
                    add(
                        index + 2,
                        "relationship_ended_at",
                        RELATIONSHIP_END_MISMATCH % {"row": giving + 2},
                    )
        groups.append(group)
    return groups


def check(rows: list[dict[str, str]]) -> tuple[list[Group], dict[str, list[str]]]:
    """Every row through the register's rules; errors keyed by row number."""
    inventory = validation.Inventory()
    errors: dict[str, list[str]] = {}

    def add(number: int, column: str, message: Any) -> None:
        errors.setdefault(str(number), []).append(f"{header(column)}: {message}")

    identifiers, bad_identifiers = [], set()
    for number, row in enumerate(rows, start=2):
        for column, cell in row.items():
            if formula_risk(cell):
                add(number, column, FORMULA_CELL)
        collector = validation.ErrorCollector()
        raw = {kind: row[kind] for kind in _IDENTIFIER_COLUMNS}
        identifiers.append(validation.identifiers_normalize(raw=raw, path="id", errors=collector))
        for path, messages in collector.errors.items():
            bad_identifiers.add(number)
            for message in messages:
                add(number, path.removeprefix("id."), message)
    groups = group_rows(rows, identifiers, add)
    for group in groups:
        collector = validation.ErrorCollector()
        validation.record_validate(
            record=group.record, inventory=inventory, path="r", errors=collector
        )
        for path, messages in collector.errors.items():
            match = re.match(r"^r\.(items|consents)\[(\d+)\]\.(\w+)", path)
            if match:
                entry = group.record[match.group(1)][int(match.group(2))]
                number, column = entry["row"], match.group(3)
                if match.group(1) == "consents":
                    column = CONSENT_FIELD_COLUMNS.get(column, column)
            else:
                column = path.removeprefix("r.").split(".")[-1]
                if column == "identifiers" and bad_identifiers.intersection(group.rows):
                    continue  # the rows' own identifier errors already say what is wrong
                number = group.origin.get(column, group.rows[0])
            for message in messages:
                add(number, column, message)
    return groups, errors


def _actor_label(job: CsvImport) -> str:
    return f"csv:{job.created_by.get_username()}"


def _label(job: CsvImport) -> str:
    return f"csv-import:{job.uuid}"


@transaction.atomic
def csv_import_preview(*, file_name: str, data: bytes, created_by: Any) -> CsvImport:
    """Check an upload and keep it, sealed, for the user to confirm; nothing is imported yet."""
    rows = parse(data)
    _, errors = check(rows)
    job = CsvImport(file_name=file_name[:200], created_by=created_by, total_rows=len(rows))
    job.valid_rows = len(rows) - len(errors)
    job.row_errors = errors
    job.sealed_content = keyring().seal(data, _label(job))
    job.save()
    audit_entry_create(
        action=Action.CREATE,
        actor=created_by,
        target=job,
        detail={"event": "csv_previewed", "rows": len(rows), "invalid_rows": len(errors)},
    )
    return job


@transaction.atomic
def csv_import_confirm(*, job: CsvImport, mode: str, confirmed_by: Any) -> CsvImport:
    """Queue the import in the chosen mode; all-or-nothing refuses a file with invalid rows."""
    job = CsvImport.objects.select_for_update().get(pk=job.pk)
    if job.status != CsvImport.Status.PREVIEWED:
        raise PortalError(NOT_PREVIEWED, code="not_previewed")
    if job.created_at < timezone.now() - PREVIEW_LIFETIME:
        raise PortalError(PREVIEW_EXPIRED, code="expired")
    if mode == CsvImport.Mode.ALL_OR_NOTHING and job.invalid_rows:
        raise PortalError(INVALID_ROWS_EXIST, code="invalid_rows", field="mode")
    if job.valid_rows == 0:
        raise PortalError(NOTHING_VALID, code="nothing_valid", field="mode")
    job.mode, job.status = mode, CsvImport.Status.QUEUED
    job.save(update_fields=["mode", "status"])
    schema, job_id = connection.schema_name, job.pk
    transaction.on_commit(
        lambda: app.signature(
            "subjects.tasks.csv_import_run", kwargs={"schema_name": schema, "job_id": job_id}
        ).delay()
    )
    return job


@transaction.atomic
def csv_import_cancel(*, job: CsvImport, cancelled_by: Any) -> CsvImport:
    job = CsvImport.objects.select_for_update().get(pk=job.pk)
    if job.status != CsvImport.Status.PREVIEWED:
        raise PortalError(NOT_PREVIEWED, code="not_previewed")
    job.status, job.sealed_content, job.finished_at = (
        CsvImport.Status.CANCELLED,
        None,
        timezone.now(),
    )
    job.save(update_fields=["status", "sealed_content", "finished_at"])
    return job


def _progress_key(job: CsvImport) -> str:
    # The cache's key function adds the schema: controllers never share a counter.
    return f"csv-import-progress:{job.pk}"


def _progress(job: CsvImport, done: int, *, in_transaction: bool) -> None:
    """Rows processed so far, for the progress page.

    An all-or-nothing import runs in one transaction no other connection sees into
    before it commits, so the count travels through the cache; a valid-only import
    commits each batch and writes the count on its row as well.
    """
    cache.set(_progress_key(job), done, timeout=int(RUN_LIFETIME.total_seconds()))
    if not in_transaction:
        CsvImport.objects.filter(pk=job.pk).update(processed_rows=done)


def csv_import_progress(*, job: CsvImport) -> CsvImport:
    """The job with its processed-row count as far as the worker has reported it."""
    if job.status == CsvImport.Status.RUNNING:
        job.processed_rows = max(job.processed_rows, cache.get(_progress_key(job), 0))
    return job


def _end(job: CsvImport, *, status: str, failure: str = "") -> None:
    """End a job that will not run (on): its sealed upload goes, the page stops polling."""
    job.status, job.failure = status, failure
    job.sealed_content, job.finished_at = None, timezone.now()
    job.save(update_fields=["status", "failure", "sealed_content", "finished_at"])
    cache.delete(_progress_key(job))


def csv_import_execute(*, job_id: int) -> CsvImport:
    """Run a confirmed import (the worker calls this): re-check, then ingest in batches."""
    # One conditional UPDATE claims the job: a message delivered twice (acks_late) runs once.
    claimed = CsvImport.objects.filter(pk=job_id, status=CsvImport.Status.QUEUED).update(
        status=CsvImport.Status.RUNNING
    )
    job = CsvImport.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        logger.warning("CSV import %s is %s, not queued: not run", job_id, job.status)
        return job
    with translation.override(job.created_by.language):
        try:
            return _run(job)
        except Exception:
            # Not a retry: whatever broke, the job must end so that its sealed upload
            # does not linger and the page stops polling. The error goes on to the log.
            done = csv_import_progress(job=job).processed_rows
            _end(job, status=CsvImport.Status.FAILED, failure=RUN_CRASHED % {"done": done})
            audit_entry_create(
                action=Action.CREATE,
                actor_label=f"csv:{job.created_by.get_username()}",
                target=job,
                purpose="csv import",
                detail={"event": "csv_import_crashed", "mode": job.mode, "processed_rows": done},
            )
            raise


def _run(job: CsvImport) -> CsvImport:
    rows = parse(keyring().unseal(bytes(job.sealed_content), _label(job)))
    groups, errors = check(rows)  # the inventory may have changed since the preview
    rejected = {int(number): messages for number, messages in errors.items()}
    outcome: dict[int, str] = {}
    try:
        if job.mode == CsvImport.Mode.ALL_OR_NOTHING:
            if rejected:
                raise PortalError(INVALID_ROWS_EXIST, code="invalid_rows")
            with transaction.atomic(), services.refusals_log_deferred():
                subjects, items = _ingest(job, groups, outcome, rejected, all_or_nothing=True)
        else:
            subjects, items = _ingest(job, groups, outcome, rejected, all_or_nothing=False)
    except PortalError as exc:
        if isinstance(exc.__cause__, validation.ConsentRefused):  # rolled back, logged now
            services.refusals_log(
                exc.__cause__, actor=job.created_by, actor_label=_actor_label(job)
            )
        job.status, job.failure = CsvImport.Status.FAILED, str(exc)
        subjects = items = 0
        outcome.clear()
        for number in rejected:
            outcome[number] = "rejected"
    else:
        job.status = CsvImport.Status.DONE
    job.imported_subjects, job.imported_items = subjects, items
    job.processed_rows = len(rows)
    job.report = _report(rows, outcome, rejected, failed=job.status == CsvImport.Status.FAILED)
    job.sealed_content, job.finished_at = None, timezone.now()
    job.save()
    cache.delete(_progress_key(job))
    audit_entry_create(
        action=Action.CREATE,
        actor_label=f"csv:{job.created_by.get_username()}",
        target=job,
        purpose="csv import",
        detail={
            "event": "csv_imported",
            "status": job.status,
            "subjects": subjects,
            "items": items,
            "rejected_rows": len(rejected),
        },
    )
    return job


@transaction.atomic
def csv_import_expire_stale(*, now: datetime | None = None) -> int:
    """End imports nobody will finish, so no sealed upload outlives its purpose (KVKK Art. 7).

    A preview not confirmed within PREVIEW_LIFETIME is cancelled (confirming refuses it
    from then on); a job still queued or running RUN_LIFETIME after that lost its worker
    or its queue and is failed. Returns how many jobs were ended.
    """
    now = now or timezone.now()
    stale = CsvImport.objects.select_for_update(skip_locked=True).filter(
        Q(status=CsvImport.Status.PREVIEWED, created_at__lt=now - PREVIEW_LIFETIME)
        | Q(
            status__in=[CsvImport.Status.QUEUED, CsvImport.Status.RUNNING],
            created_at__lt=now - PREVIEW_LIFETIME - RUN_LIFETIME,
        )
    )
    ended = 0
    for job in stale.order_by("pk"):
        if job.status == CsvImport.Status.PREVIEWED:
            _end(job, status=CsvImport.Status.CANCELLED, failure=str(PREVIEW_EXPIRED))
        else:
            _end(job, status=CsvImport.Status.FAILED, failure=str(RUN_ABANDONED))
        audit_entry_create(
            action=Action.DESTROY,
            target=job,
            detail={"event": "csv_import_expired", "status": job.status},
        )
        ended += 1
    return ended


def _ingest(job, groups, outcome, rejected, *, all_or_nothing: bool) -> tuple[int, int]:
    usable = [g for g in groups if not any(number in rejected for number in g.rows)]
    # valid_only: a subject with one bad row is skipped whole, so no half subject is stored
    for group in groups:
        if any(number in rejected for number in group.rows):
            for number in group.rows:
                rejected.setdefault(number, [gettext("another row of the same subject is invalid")])
    subjects = items = done = 0
    for start in range(0, len(usable), BATCH_SUBJECTS):
        batch = usable[start : start + BATCH_SUBJECTS]
        records = [
            {
                **g.record,
                "items": [{k: v for k, v in i.items() if k != "row"} for i in g.record["items"]],
                "consents": [
                    {k: v for k, v in c.items() if k != "row"} for c in g.record["consents"]
                ],
            }
            for g in batch
        ]
        try:
            # a refused batch is retried per subject, whose refusals are the ones logged
            with transaction.atomic(), services.refusals_log_deferred():
                result = services.register_ingest(
                    inputs=validation.records_validate(records=records),
                    actor=job.created_by,
                    source="csv",
                )
        except services.IdentifierClaimed as exc:
            if all_or_nothing:
                raise PortalError(IMPORT_RACED, code="conflict") from exc
            result = _ingest_one_by_one(job, batch, records, rejected)
        except validation.RecordErrors as exc:
            if all_or_nothing:
                raise PortalError(exc.message, code="conflict") from exc
            result = _ingest_one_by_one(job, batch, records, rejected)
        subjects += len(result.subjects) if result else 0
        items += result.items if result else 0
        for group in batch:
            for number in group.rows:
                outcome.setdefault(number, "rejected" if number in rejected else "imported")
        done += sum(len(g.rows) for g in batch)
        _progress(job, done, in_transaction=all_or_nothing)
    return subjects, items


@dataclass
class _Tally:
    subjects: list
    items: int


def _ingest_one_by_one(job, batch, records, rejected) -> _Tally:
    """A batch that conflicts with the register is retried per subject.

    Conflicts are identifiers of two subjects, or an identifier another write stored at the
    same moment (IdentifierClaimed): retried alone, that subject now meets the stored one and
    is added to it or refused with a row error, while the rest of the batch goes in.
    """
    tally = _Tally([], 0)
    for group, record in zip(batch, records, strict=True):
        try:
            with transaction.atomic(), services.refusals_log_deferred():
                result = services.register_ingest(
                    inputs=validation.records_validate(records=[record]),
                    actor=job.created_by,
                    source="csv",
                )
        except services.IdentifierClaimed as exc:
            for number in group.rows:
                rejected.setdefault(number, [f"{header('identifiers')}: {exc.message}"])
        except validation.RecordErrors as exc:
            if isinstance(exc, validation.ConsentRefused):  # rolled back: logged now
                services.refusals_log(exc, actor=job.created_by, actor_label=_actor_label(job))
            for number in group.rows:
                rejected.setdefault(number, _labelled(exc.errors))
        else:
            tally.subjects += result.subjects
            tally.items += result.items
    return tally


def _labelled(errors: dict[str, list[str]]) -> list[str]:
    """Errors of a record path ("subjects[0].items[1].value") as "column: message" lines."""
    lines = []
    for path, messages in errors.items():
        column = re.sub(r"\[\d+\]", "", path).split(".")[-1]
        prefix = f"{header(column)}: " if column in HEADERS or column == "identifiers" else ""
        lines += [f"{prefix}{message}" for message in messages]
    return lines


def _report(rows, outcome, rejected, *, failed: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([gettext("row"), gettext("result"), gettext("messages")])
    for number in range(2, len(rows) + 2):
        if number in rejected:
            status = gettext("rejected")
        elif failed:
            status = gettext("not imported")
        else:
            status = (
                gettext("imported") if outcome.get(number) == "imported" else gettext("rejected")
            )
        writer.writerow([number, status, formula_safe(" | ".join(rejected.get(number, [])))])
    return buffer.getvalue()


def template_csv() -> str:
    """A header row in the user's language and one example row, for controllers preparing a file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers())
    writer.writerow(
        [
            "customer",
            "Ayşe Yılmaz",
            "10000000146",
            "",
            "ayse@example.com.tr",
            "+90 532 123 45 67",
            "M-000001",
            "contact",
            "customer_service",
            "art5_2_c",
            "crm",
            "Çiçek Sok. No:5 Kadıköy/İstanbul",
            "2025-03-01T10:00:00+03:00",
            "",
            "",
            *[""] * len(CONSENT_COLUMNS),
        ]
    )
    return buffer.getvalue()
