"""The access package (Art. 11(1)(a)-(b)): the applicant's complete data and the processing
acts about them, as JSON, CSV and a readable Turkish PDF.

A worker builds it (queued → running → ready, or failed with the reason shown; staff may
retry). Staff review it before release and may redact third parties' data, for instance
another person named in a free-text interaction: a whole value, or a span of text within
it. The content is changed at once (the third party's text is not kept in the package),
each redaction is recorded (who, when, where, why: never the removed text) and the files
are rendered again from the redacted content. Released files go to the applicant through
``requests.delivery``, once per follow code.

The processing acts come from the processing log (audit.AuditEntry with the subject's
reference): time, action, purpose, event and the kind of actor. Staff members' names are
left out: they are personal data of third parties, and the right of access covers what is
done with the applicant's data, not who among the controller's employees did it.
"""

import csv
import io
import json
import logging
import secrets
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from accounts.models import Role
from audit.models import Action, AuditEntry
from config.celery import app
from config.errors import PortalError
from config.pdf import BASE_CSS, html_to_pdf_paged
from requests.answers import act_check, subject_for_answer
from requests.crypto import open_json, seal_file, seal_json
from requests.models import AccessPackage, Application, JobStatus
from requests.services import log, role_check
from subjects.models import IdentifierKind
from subjects.selectors import subject_decrypt

logger = logging.getLogger(__name__)

REDACTED = "[karartıldı]"
# Handlers act; the auditor reads.
READERS = (Role.CONTROLLER_ADMIN, Role.REQUEST_OFFICER, Role.AUDITOR)

NOT_READY = _("Only a package that is ready for review can be redacted or released.")
NOT_FAILED = _("Only a failed package can be retried.")
REASON_REQUIRED = _("Give the reason for the redaction.")
PATH_UNKNOWN = _("Choose a field of the package.")
SPAN_NOT_FOUND = _("This text does not occur in the chosen field.")
PACKAGE_PENDING = _("A package is already being prepared for this application.")

FILE_TYPES = {
    "json": ("application/json", "json"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "pdf": ("application/pdf", "pdf"),
}


def _queue(package: AccessPackage) -> None:
    schema_name = connection.schema_name
    transaction.on_commit(
        lambda: app.send_task(
            "requests.tasks.package_build",
            kwargs={"schema_name": schema_name, "package_id": package.pk},
        )
    )


@transaction.atomic
def package_request(application: Application, *, actor, request=None) -> AccessPackage:
    """Ask a worker to build the access package of a verified application."""
    act_check(application, actor)
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.packages.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).exists():
        raise PortalError(PACKAGE_PENDING, code="pending", status=409)
    package = AccessPackage.objects.create(application=application, requested_by=actor)
    log(application, event="package_requested", actor=actor, request=request, package=package.pk)
    _queue(package)
    return package


@transaction.atomic
def package_retry(package: AccessPackage, actor, request=None) -> AccessPackage:
    """Queue a failed package again; its failure text is cleared."""
    act_check(package.application, actor)
    package = AccessPackage.objects.select_for_update().get(pk=package.pk)
    if package.status != JobStatus.FAILED:
        raise PortalError(NOT_FAILED, code="not_failed", status=409)
    package.status = JobStatus.QUEUED
    package.failure = ""
    package.save(update_fields=["status", "failure"])
    log(package.application, event="package_retried", actor=actor, request=request,
        package=package.pk)  # fmt: skip
    _queue(package)
    return package


def _actor_kind(entry: AuditEntry) -> str:
    if entry.actor_id is not None:
        return "staff"
    if entry.actor_label == "applicant":
        return "applicant"
    if entry.actor_label.startswith("api"):
        return "api"
    return "system"


def _processing_acts(subject_ref: str) -> list[dict[str, Any]]:
    entries = AuditEntry.objects.filter(subject_ref=subject_ref).order_by("at", "id")
    return [
        {
            "at": entry.at.isoformat(),
            "action": entry.action,
            "purpose": entry.purpose,
            "event": str(entry.detail.get("event", "")) if isinstance(entry.detail, dict) else "",
            "actor": _actor_kind(entry),
        }
        for entry in entries.iterator()
    ]


def _iso(moment) -> str:
    return moment.isoformat() if moment else ""


def content_collect(application: Application) -> dict[str, Any]:
    """Everything the register holds for the applicant, decrypted (callers log the read)."""
    subject = subject_for_answer(application)
    content: dict[str, Any] = {
        "reference": application.reference,
        "generated_at": timezone.now().isoformat(),
        "processed": False,
        "subject": {},
        "items": [],
        "interactions": [],
        "consents": [],
        "processing": [],
    }
    if subject is None:
        return content
    view = subject_decrypt(subject)
    if view.destroyed:
        return content
    content["processed"] = True
    content["subject"] = {
        "reference": view.uuid,
        "group": view.group,
        "name": view.name,
        "identifiers": dict(view.identifiers),
    }
    content["items"] = [
        {
            "category": item.category,
            "purpose": item.purpose,
            "legal_basis": str(item.legal_basis_label),
            "source_system": item.source_system,
            "value": item.value,
            "collected_at": _iso(item.collected_at),
            "last_used_at": _iso(item.last_used_at),
        }
        for item in view.items
    ]
    content["interactions"] = [
        {
            "kind": str(row.kind_label),
            "occurred_at": _iso(row.occurred_at),
            "text": row.text,
            "attachment_name": row.attachment_name or "",
        }
        for row in view.interactions
    ]
    content["consents"] = [
        {
            "purpose": row.purpose,
            "channel": str(row.channel_label),
            "notice_version": row.notice_version,
            "given_at": _iso(row.given_at),
            "withdrawn_at": _iso(row.withdrawn_at),
            "evidence_reference": row.evidence_reference,
            "valid": row.valid,
        }
        for row in view.consents
    ]
    content["processing"] = _processing_acts(view.uuid)
    return content


# --- Rendering -------------------------------------------------------------------------------


def _leaves(value: Any, prefix: str = ""):
    """(path, value) of every leaf, in document order ("items.0.value")."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaves(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _leaves(inner, f"{prefix}.{index}" if prefix else str(index))
    else:
        yield prefix, value


def text_fields(content: dict[str, Any]) -> list[tuple[str, str]]:
    """The fields staff may redact: every non-empty text of the package."""
    return [
        (path, value)
        for path, value in _leaves(content)
        if isinstance(value, str) and value and path not in ("reference", "generated_at")
    ]


def _csv(content: dict[str, Any]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    with translation.override("tr"):
        writer.writerow([pgettext("CSV column", "field"), pgettext("CSV column", "value")])
    for path, value in _leaves(content):
        writer.writerow([path, "" if value is None else value])
    return ("\ufeff" + text.getvalue()).encode()  # a BOM, so spreadsheets read UTF-8


ACTOR_LABELS = {
    "staff": _("An employee of the controller"),
    "system": _("The controller's system"),
    "api": _("The controller's system (API)"),
    "applicant": _("You (the applicant)"),
}


def content_readable(content: dict[str, Any]) -> dict[str, Any]:
    """Labels for the PDF: identifier kinds, actions and actors in words."""
    identifiers = content.get("subject", {}).get("identifiers", {})
    return {
        "identifiers": [
            (IdentifierKind(kind).label if kind in IdentifierKind.values else kind, value)
            for kind, value in identifiers.items()
        ],
        "processing": [
            {
                **act,
                "action_label": Action(act["action"]).label
                if act["action"] in Action.values
                else act["action"],
                "actor_label": ACTOR_LABELS.get(act["actor"], act["actor"]),
            }
            for act in content.get("processing", [])
        ],
    }


def _pdf(application: Application, content: dict[str, Any]) -> tuple[bytes, int]:
    with translation.override("tr"):
        html = render_to_string(
            "requests/rights/package_pdf.html",
            {"content": content, "application": application, "base_css": BASE_CSS,
             "tenant": getattr(connection, "tenant", None), "readable": content_readable(content)},
        )  # fmt: skip
    return html_to_pdf_paged(html)


def _store(package: AccessPackage, kind: str, data: bytes, pages: int = 0) -> dict[str, Any]:
    content_type, extension = FILE_TYPES[kind]
    path = f"{connection.schema_name}/applications/{secrets.token_hex(16)}.bin"
    stored = default_storage.save(path, ContentFile(seal_file(package, data)))
    return {
        "path": stored,
        "name": f"{package.application.reference}-verilerim.{extension}",
        "content_type": content_type,
        "size": len(data),
        **({"pages": pages} if pages else {}),
    }


def _files_render(package: AccessPackage, content: dict[str, Any]) -> dict[str, Any]:
    pdf, pages = _pdf(package.application, content)
    renders = {
        "json": (json.dumps(content, ensure_ascii=False, indent=2).encode(), 0),
        "csv": (_csv(content), 0),
        "pdf": (pdf, pages),
    }
    files: dict[str, Any] = {}
    try:
        for kind, (data, count) in renders.items():
            files[kind] = _store(package, kind, data, count)
    except BaseException:
        _files_delete(files)
        raise
    return files


def _files_delete(files: dict[str, Any]) -> None:
    for meta in files.values():
        default_storage.delete(meta["path"])


def _files_delete_after_commit(files: dict[str, Any]) -> None:
    paths = dict(files)
    transaction.on_commit(lambda: _files_delete(paths))


def package_build(*, package_id: int) -> str:
    """The worker's job: collect, seal, render; the package ends ready or failed.

    Any error of the build is recorded on the package for staff to see and retry: the
    job is the only place that can tell them where and why it stopped.
    """
    with transaction.atomic():
        package = (
            AccessPackage.objects.select_for_update()
            .select_related("application")
            .get(pk=package_id)
        )
        if package.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
            return package.status
        package.status = JobStatus.RUNNING
        package.attempts += 1
        package.save(update_fields=["status", "attempts"])
    application = package.application
    files: dict[str, Any] = {}
    try:
        with transaction.atomic():
            with translation.override("tr"):  # labels in the package are Turkish
                content = content_collect(application)
            seal_json(package, "content_enc", content)
            files = _files_render(package, content)
            package.files = files
            package.status = JobStatus.READY
            package.built_at = timezone.now()
            package.failure = ""
            package.save(update_fields=["content_enc", "files", "status", "built_at", "failure"])
            log(
                application,
                action=Action.READ,
                event="package_built",
                actor_label="worker",
                package=package.pk,
                items=len(content["items"]),
                interactions=len(content["interactions"]),
            )
    except Exception as exc:  # recorded for staff: the failure text is the job's report
        logger.exception("access package %s failed", package_id)
        _files_delete(files)
        AccessPackage.objects.filter(pk=package_id).update(
            status=JobStatus.FAILED, failure=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return JobStatus.FAILED
    return JobStatus.READY


def package_content(package: AccessPackage, *, actor, request=None) -> dict[str, Any]:
    """The package's content for staff review; the read is logged."""
    role_check(actor, roles=READERS)
    content = open_json(package, "content_enc") or {}
    log(package.application, action=Action.READ, event="package_reviewed", actor=actor,
        request=request, package=package.pk)  # fmt: skip
    return content


def _ready_locked(package: AccessPackage, actor) -> AccessPackage:
    act_check(package.application, actor)
    package = (
        AccessPackage.objects.select_for_update().select_related("application").get(pk=package.pk)
    )
    if package.status != JobStatus.READY:
        raise PortalError(NOT_READY, code="not_ready", status=409)
    return package


def _resolve(content: dict[str, Any], path: str) -> tuple[Any, Any]:
    """The container and key of a text leaf at ``path``; PATH_UNKNOWN otherwise."""
    if path in ("reference", "generated_at") or not path:
        raise PortalError(PATH_UNKNOWN, field="path")
    parts = path.split(".")
    node: Any = content
    try:
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last = int(parts[-1]) if isinstance(node, list) else parts[-1]
        value = node[last]
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise PortalError(PATH_UNKNOWN, field="path") from exc
    if not isinstance(value, str) or not value:
        raise PortalError(PATH_UNKNOWN, field="path")
    return node, last


def package_redact(
    package: AccessPackage,
    *,
    path: str,
    reason: str,
    find: str = "",
    replacement: str = "",
    actor,
    request=None,
) -> AccessPackage:
    """Redact a value of the package, or a span of text in it, and render the files again."""
    reason = reason.strip()
    if not reason:
        raise PortalError(REASON_REQUIRED, field="reason")
    with transaction.atomic():
        package = _ready_locked(package, actor)
        content = open_json(package, "content_enc") or {}
        node, key = _resolve(content, path)
        replacement = replacement.strip() or REDACTED
        if find:
            if find not in node[key]:
                raise PortalError(SPAN_NOT_FOUND, field="find")
            node[key] = node[key].replace(find, replacement)
        else:
            node[key] = replacement
        seal_json(package, "content_enc", content)
        old_files = package.files
        package.files = _files_render(package, content)
        package.redactions = [
            *package.redactions,
            {
                "path": path,
                "span": bool(find),
                "chars": len(find),
                "reason": reason[:500],
                "by": actor.pk,
                "by_name": actor.get_username(),
                "at": timezone.now().isoformat(),
            },
        ]
        package.save(update_fields=["content_enc", "files", "redactions"])
        log(package.application, event="package_redacted", actor=actor, request=request,
            package=package.pk, path=path, reason=reason[:500])  # fmt: skip
        _files_delete_after_commit(old_files)
    return package


def package_release(package: AccessPackage, *, actor, request=None) -> AccessPackage:
    """Make the reviewed package's files available to the applicant (requests.delivery)."""
    with transaction.atomic():
        package = _ready_locked(package, actor)
        package.status = JobStatus.RELEASED
        package.released_by = actor
        package.released_at = timezone.now()
        package.save(update_fields=["status", "released_by", "released_at"])
        log(package.application, action=Action.EXPORT, event="package_released", actor=actor,
            request=request, package=package.pk, redactions=len(package.redactions))  # fmt: skip
    return package


def package_pdf_pages(package: AccessPackage) -> int:
    """Pages of the package's PDF (for the fee); 0 when none."""
    return int(package.files.get("pdf", {}).get("pages", 0))


def content_reopen(package: AccessPackage) -> dict[str, Any] | None:
    """The content again for a reader whose read was logged (a read grant); None if none."""
    return open_json(package, "content_enc")
