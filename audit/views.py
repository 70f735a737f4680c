"""The processing-log page (işleme kayıtları): read like a register, exported, checkpointed.

It sits above the register in the layers (see pyproject.toml): it names the
controller's processing purposes and exports under the register's CSV formula rule.
"""

import csv
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import AUDIT_READERS, otp_exempt, role_required
from audit import signing
from audit.forms import EntryFilterForm
from audit.models import Action, AuditEntry
from audit.selectors import audit_entry_list, checkpoint_status, last_verification
from audit.services import audit_checkpoint_take, audit_entry_create
from subjects.csv_import import formula_safe
from subjects.models import ProcessingPurpose

PAGE_SIZE = 50
# Entries fetched per round trip while an export streams.
EXPORT_CHUNK = 2000

CHECKPOINT_SIGNED = _("Checkpoint signed: entry #%(seq)s, key %(key)s.")
# The label audit_entry_create gives acts of no person (tasks, commands).
SYSTEM_ACTOR = _("System")

# What the events other apps record mean, in words; an unknown one is shown as its code.
EVENT_LABELS = {
    "fixture": _("test data"),
    "provisioned": _("controller provisioned"),
    "undertaking_signed": _("confidentiality undertaking signed"),
    "tenant_key_rewrapped": _("controller key re-wrapped"),
    "api_token_created": _("API token created"),
    "api_token_revoked": _("API token revoked"),
    "items_added": _("items added"),
    "lookup": _("look-up by identifier"),
    "attachment_download": _("attachment downloaded"),
    "csv_previewed": _("CSV file previewed"),
    "csv_imported": _("CSV file imported"),
    "csv_import_crashed": _("CSV import stopped by an error"),
    "csv_import_expired": _("CSV import expired"),
    "register_ingest": _("records received"),
    "invitation_accepted": _("invitation accepted"),
    "user_invited": _("staff member invited"),
    "audit_log_export": _("processing log exported"),
    "consent_given": _("explicit consent recorded"),
    "consent_withdrawn": _("explicit consent withdrawn"),
    "consent_gate_refused": _("refused: no valid explicit consent"),
    "consent_evidence_download": _("consent evidence downloaded"),
    "privacy_notice_published": _("privacy notice published"),
}


@dataclass(frozen=True)
class Row:
    """One entry as the page and the export show it."""

    seq: int | None
    at: datetime
    user: str
    action: str
    description: str
    subject_ref: str
    subject_url: str
    purpose: str
    ip_address: str

    @property
    def subject_short(self) -> str:
        return self.subject_ref[:8]


class Labels:
    """Names instead of codes, loaded once per page or export (a few queries, whatever the rows)."""

    def __init__(self) -> None:
        people = get_user_model().objects.values_list("pk", "first_name", "last_name", "username")
        self.users = {
            pk: f"{first} {last}".strip() or username for pk, first, last, username in people
        }
        self.purposes = dict(ProcessingPurpose.objects.values_list("code", "name"))

    def user_choices(self) -> list[tuple[int, str]]:
        return sorted(self.users.items(), key=lambda item: item[1].casefold())

    def purpose(self, text: str) -> str:
        """The purposes' names when the entry lists codes; a purpose stated in words as it is."""
        codes = [code.strip() for code in text.split(",")] if text else []
        if codes and all(code in self.purposes for code in codes):
            return ", ".join(self.purposes[code] for code in codes)
        return text

    def description(self, entry: AuditEntry) -> str:
        words = []
        if entry.object_type:
            try:
                model = apps.get_model(entry.object_type)
            except (LookupError, ValueError):
                words.append(entry.object_type)
            else:
                words.append(str(capfirst(model._meta.verbose_name)))
                if model is get_user_model() and entry.object_id.isdigit():
                    name = self.users.get(int(entry.object_id))
                    if name:
                        words[-1] = f"{words[-1]}: {name}"
        event = entry.detail.get("event") if isinstance(entry.detail, dict) else None
        if isinstance(event, str) and event:
            words.append(str(EVENT_LABELS.get(event, event.replace("_", " "))))
        return " — ".join(words)

    def row(self, entry: AuditEntry) -> Row:
        try:
            subject_url = reverse("subjects:detail", args=[uuid.UUID(entry.subject_ref)])
        except ValueError:
            subject_url = ""
        user = self.users.get(entry.actor_id) if entry.actor_id is not None else None
        link = getattr(entry, "link", None)
        return Row(
            seq=link.seq if link is not None else None,
            at=entry.at,
            user=user
            or (str(SYSTEM_ACTOR) if entry.actor_label == "system" else entry.actor_label),
            action=entry.get_action_display(),
            description=self.description(entry),
            subject_ref=entry.subject_ref,
            subject_url=subject_url,
            purpose=self.purpose(entry.purpose),
            ip_address=entry.ip_address or "",
        )


def _filters(labels: Labels, data) -> EntryFilterForm:
    return EntryFilterForm(data, users=labels.user_choices())


@role_required(*AUDIT_READERS)
@require_GET
def entry_list_view(request):
    labels = Labels()
    form = _filters(labels, request.GET or None)
    filters = form.filters() if form.is_bound else {}
    page = Paginator(audit_entry_list(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": [labels.row(entry) for entry in page],
        "query": query.urlencode(),
        "status": checkpoint_status(),
        "verification": last_verification(),
        "fingerprint": signing.fingerprint(),
    }
    template = "audit/fragment_entries.html" if request.htmx else "audit/entry_list.html"
    return render(request, template, context)


def _export_rows(labels: Labels, entries) -> Iterator[list[str]]:
    yield [
        gettext("No."),
        gettext("Time"),
        gettext("User"),
        gettext("Action"),
        gettext("Object"),
        gettext("Data subject"),
        gettext("Purpose"),
        gettext("IP address"),
    ]
    for entry in entries.iterator(chunk_size=EXPORT_CHUNK):
        row = labels.row(entry)
        yield [
            "" if row.seq is None else str(row.seq),
            timezone.localtime(row.at).isoformat(timespec="seconds"),
            row.user,
            row.action,
            row.description,
            row.subject_ref,
            row.purpose,
            row.ip_address,
        ]


class _Echo:
    def write(self, value: str) -> str:
        return value


@role_required(*AUDIT_READERS)
@require_POST
def entry_export_view(request):
    """The filtered entries as CSV; the export is itself an entry of the log (Art. 12)."""
    labels = Labels()
    form = _filters(labels, request.POST)
    filters = form.filters()
    entries = audit_entry_list(**filters)
    logged = audit_entry_create(
        action=Action.EXPORT,
        actor=request.user,
        detail={
            "event": "audit_log_export",
            "rows": entries.count(),
            "filters": {key: str(value) for key, value in filters.items() if value},
        },
        request=request,
    )
    entries = entries.filter(pk__lt=logged.pk)  # exactly the rows counted in the entry
    writer = csv.writer(_Echo())
    lines = (
        writer.writerow([formula_safe(cell) for cell in row])
        for row in _export_rows(labels, entries)
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    name = f"processing-log-{connection.schema_name}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@role_required(*AUDIT_READERS)
@require_POST
def checkpoint_create_view(request):
    """Sign the chain head now, besides the nightly checkpoint."""
    checkpoint = audit_checkpoint_take(taken_by=request.user.get_username())
    messages.success(request, CHECKPOINT_SIGNED % {"seq": checkpoint.seq, "key": checkpoint.key_id})
    return redirect("audit:entries")


@otp_exempt
@require_GET
def signing_key_view(request):
    """The platform's public key (PEM), with which anyone checks a checkpoint's signature."""
    return HttpResponse(signing.public_key_pem(), content_type="text/plain; charset=us-ascii")
