"""The data-return export: everything a controller gave us, readable, in one ZIP.

Runs inside the controller's schema (tenants.tasks.contract_export). Rows are read in
chunks and written straight into a ZIP in a temporary file, so memory stays flat
however large the register is; the finished file is stored under the controller's media
prefix (``<schema>/exports/``), which the contract-end destruction removes.

Contents:
- ``subjects.jsonl``: one JSON object per subject (group, name, identifiers, items,
  interactions), decrypted;
- ``attachments/<interaction uuid>/<file name>``: the interactions' attachment files;
- ``inventory.json``: subject groups, data categories, processing purposes;
- ``processing-log.csv``: the controller's processing log;
- ``manifest.json``: the controller, the time and the counts.
"""

import csv
import io
import json
import tempfile
import zipfile
from pathlib import PurePosixPath

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from audit.models import Action, AuditEntry
from audit.services import audit_entry_create
from subjects.crypto import ATTACHMENT_CONTENT, ATTACHMENT_NAME, subject_ciphers_of
from subjects.models import (
    DataCategory,
    DataSubject,
    Interaction,
    ProcessingPurpose,
    SubjectGroup,
)
from subjects.selectors import subject_decrypt
from tenants.models import ContractExport, Tenant

CHUNK = 500
LOG_COLUMNS = [
    "id",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "subject_ref",
    "purpose",
    "detail",
    "ip_address",
]


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _subject_json(subject: DataSubject) -> dict:
    view = subject_decrypt(subject)
    return {
        "uuid": view.uuid,
        "group": view.group,
        "destroyed": view.destroyed,
        "name": view.name,
        "relationship_ended_at": _iso(subject.relationship_ended_at),
        "created_at": _iso(subject.created_at),
        "identifiers": view.identifiers,
        "items": [
            {
                "id": item.id,
                "category": item.category_code,
                "category_name": item.category,
                "purpose": item.purpose_code,
                "purpose_name": item.purpose,
                "legal_basis": item.legal_basis,
                "source_system": item.source_system,
                "value": item.value,
                "collected_at": _iso(item.collected_at),
                "last_used_at": _iso(item.last_used_at),
            }
            for item in view.items
        ],
        "interactions": [
            {
                "uuid": row.uuid,
                "kind": row.kind,
                "occurred_at": _iso(row.occurred_at),
                "text": row.text,
                "attachment": (
                    f"attachments/{row.uuid}/{_safe_name(row.attachment_name)}"
                    if row.attachment_name
                    else None
                ),
                "attachment_size": row.attachment_size,
            }
            for row in view.interactions
        ],
    }


def _safe_name(name: str) -> str:
    """A file name that cannot climb out of its folder in the ZIP."""
    return PurePosixPath(name.replace("\\", "/")).name or "attachment"


def _write_subjects(archive: zipfile.ZipFile) -> int:
    count = 0
    with archive.open("subjects.jsonl", "w", force_zip64=True) as handle:
        subjects = DataSubject.objects.select_related("group").order_by("pk")
        for subject in subjects.iterator(chunk_size=CHUNK):
            line = json.dumps(_subject_json(subject), ensure_ascii=False) + "\n"
            handle.write(line.encode())
            count += 1
    return count


def _write_attachments(archive: zipfile.ZipFile) -> int:
    count = 0
    rows = (
        Interaction.objects.exclude(attachment_path="")
        .select_related("subject")
        .order_by("subject_id", "pk")
    )
    batch: list[Interaction] = []

    def flush():
        nonlocal count
        ciphers = subject_ciphers_of({row.subject for row in batch if not row.subject.is_shredded})
        for row in batch:
            cipher = ciphers.get(str(row.subject.uuid))
            if cipher is None or not default_storage.exists(row.attachment_path):
                continue
            with default_storage.open(row.attachment_path) as stored:
                content = cipher.open_bytes(stored.read(), ATTACHMENT_CONTENT, row.pk)
            name = _safe_name(cipher.open(row.attachment_name_enc, ATTACHMENT_NAME, row.pk))
            archive.writestr(f"attachments/{row.uuid}/{name}", content)
            count += 1
        batch.clear()

    for row in rows.iterator(chunk_size=CHUNK):
        batch.append(row)
        if len(batch) >= CHUNK:
            flush()
    flush()
    return count


def _write_inventory(archive: zipfile.ZipFile) -> None:
    inventory = {
        "subject_groups": list(SubjectGroup.objects.values("code", "name")),
        "data_categories": list(DataCategory.objects.values("code", "name", "special_category")),
        "processing_purposes": list(ProcessingPurpose.objects.values("code", "name", "is_active")),
    }
    archive.writestr("inventory.json", json.dumps(inventory, ensure_ascii=False, indent=2))


def _write_log(archive: zipfile.ZipFile) -> int:
    count = 0
    with (
        archive.open("processing-log.csv", "w", force_zip64=True) as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle,
    ):
        writer = csv.writer(handle)
        writer.writerow(LOG_COLUMNS)
        entries = AuditEntry.objects.order_by("pk").values_list(*LOG_COLUMNS)
        for row in entries.iterator(chunk_size=2000):
            values = list(row)
            values[1] = _iso(values[1])
            values[9] = json.dumps(values[9], ensure_ascii=False)
            writer.writerow(["" if value is None else value for value in values])
            count += 1
    return count


def export_build(*, export_id: int, actor=None) -> ContractExport:
    """Write the export of the current schema's controller and log it as an export."""
    export = ContractExport.objects.select_related("tenant").get(pk=export_id)
    tenant: Tenant = export.tenant
    assert tenant.schema_name == connection.schema_name
    path = f"{tenant.schema_name}/exports/{export.uuid.hex}.zip"
    with tempfile.TemporaryFile() as temporary:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            counts = {
                "subjects": _write_subjects(archive),
                "attachments": _write_attachments(archive),
                "log_entries": _write_log(archive),
            }
            _write_inventory(archive)
            manifest = {
                "controller": {
                    "legal_name": tenant.legal_name,
                    "vkn": tenant.vkn,
                    "schema": tenant.schema_name,
                },
                "contract_ended_at": _iso(tenant.contract_ended_at),
                "data_kept_until": _iso(tenant.grace_ends_at),
                "generated_at": timezone.now().isoformat(),
                "counts": counts,
            }
            archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        temporary.seek(0)
        default_storage.delete(path)
        stored = default_storage.save(path, File(temporary))
        size = default_storage.size(stored)
    export.path = stored
    export.size = size
    export.counts = counts
    export.status = ContractExport.Status.READY
    export.finished_at = timezone.now()
    export.save(update_fields=["path", "size", "counts", "status", "finished_at"])
    audit_entry_create(
        action=Action.EXPORT,
        actor=actor,
        actor_label=export.requested_by_label,
        detail={"event": "contract_export", "export": str(export.uuid), "counts": counts},
    )
    return export
