"""Destruction minutes (imha tutanakları): the list, one record, its PDF and its JSON.

Any staff role reads them; each controller sees only its own schema's minutes. Downloads
are not written to the processing log: minutes hold counts and a digest, no personal data.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from accounts.access import ANY_ROLE, role_required
from audit import signing
from config.kvkk import DestructionMethod, RetentionEvent
from config.pdf import BASE_CSS, html_to_pdf
from retention import minutes_chain
from retention.minutes import (
    ANCHOR,
    minutes_chain_verify,
    minutes_document,
    minutes_record_status,
)
from retention.models import (
    DestructionMinutes,
    DestructionRun,
    LegalHold,
    PeriodUnit,
    RetentionRule,
)

PAGE_SIZE = 25

PROBLEMS = {
    minutes_chain.MISSING: _("the record is missing from the chain"),
    minutes_chain.PREV_HASH: _("its link to the record before does not match"),
    minutes_chain.ENTRY_HASH: _("its content does not match its hash (it was changed)"),
    minutes_chain.SIGNATURE: _("its signature does not verify with the platform's key"),
    minutes_chain.START: _("the chain does not start where it should"),
    ANCHOR: _("the record of the last purge has an invalid signature"),
}
RULE_TEXT = _("%(period)s %(unit)s (counted from: %(event)s)")


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def _moment(value) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def _day(value) -> date | None:
    return parse_date(value) if isinstance(value, str) else None


def _rule_text(rule) -> str:
    if isinstance(rule, dict) and rule.get("period"):
        event = _label(RetentionEvent, rule.get("event"))
        if rule.get("event") == RetentionEvent.NAMED_DATE and rule.get("named_date"):
            event = f"{event} ({rule['named_date']})"
        text = RULE_TEXT % {
            "period": rule["period"],
            "unit": _label(PeriodUnit, rule.get("unit")),
            "event": event,
        }
        if rule.get("legal_reference"):
            return f"{text}; {rule['legal_reference']}"
        if rule.get("source"):
            return f"{text}; {_label(RetentionRule.Source, rule['source'])}"
        return text
    return "" if rule is None else str(rule)


@dataclass(frozen=True)
class MinutesPage:
    """A record's body in words: labels translated, dates parsed, rules spelled out."""

    minutes: DestructionMinutes
    body: dict

    @property
    def controller_name(self) -> str:
        controller = self.body.get("controller")
        if isinstance(controller, dict):
            return controller.get("name") or controller.get("schema", "")
        return str(controller or "")

    @property
    def controller_schema(self) -> str:
        controller = self.body.get("controller")
        return controller.get("schema", "") if isinstance(controller, dict) else str(controller)

    @property
    def run_uuid(self) -> str:
        run = self.body.get("run")
        return run.get("uuid", "") if isinstance(run, dict) else str(run or "")

    @property
    def kind(self) -> str:
        return _label(DestructionRun.Kind, self.body.get("kind"))

    @property
    def approval(self) -> dict:
        approval = self.body.get("approval") or {}
        by = approval.get("by") or {}
        return {
            "automatic": bool(approval.get("automatic")),
            "by": by.get("name", "") if isinstance(by, dict) else str(by),
            "at": _moment(approval.get("at")),
        }

    @property
    def requested_by(self) -> str:
        person = self.body.get("requested_by") or {}
        return person.get("name", "") if isinstance(person, dict) else str(person)

    @property
    def finished_at(self) -> datetime | None:
        return _moment(self.body.get("finished_at"))

    @property
    def started_at(self) -> datetime | None:
        return _moment(self.body.get("started_at"))

    @property
    def applied(self) -> list[dict]:
        return [
            {
                **row,
                "method_label": _label(DestructionMethod, row.get("method")),
                "rule_text": _rule_text(row.get("rule")),
            }
            for row in self.body.get("applied", [])
        ]

    @property
    def totals(self) -> dict:
        return self.body.get("totals") or {}

    @property
    def held(self) -> list[dict]:
        return [
            {**hold, "scope_label": _label(LegalHold.Scope, hold.get("scope"))}
            for hold in self.body.get("held", [])
            if isinstance(hold, dict)
        ]

    @property
    def backups_expire_on(self) -> date | None:
        return _day(self.body.get("backups_expire_on"))

    @property
    def keep_until(self) -> date:
        return _day(self.body.get("keep_until")) or self.minutes.keep_until


def _signing_key_url(request) -> str:
    """The public key's address on the platform host, the port as the reader's request has it."""
    host = request.get_host()
    port = f":{host.rsplit(':', 1)[1]}" if ":" in host.rsplit("]", 1)[-1] else ""
    key_path = reverse("signing_key", urlconf="config.urls_public")
    return f"{request.scheme}://{settings.PORTAL_BASE_DOMAIN}{port}{key_path}"


def _file_name(minutes: DestructionMinutes, extension: str) -> str:
    return f"imha-tutanagi-{connection.schema_name}-{minutes.seq:05d}.{extension}"


def _chain_problem(report) -> str:
    return str(PROBLEMS.get(report.problem, report.reason))


@role_required(*ANY_ROLE)
@require_GET
def minutes_list_view(request):
    minutes = DestructionMinutes.objects.order_by("-seq").only(
        "seq", "created_at", "body", "keep_until"
    )
    page = Paginator(minutes, PAGE_SIZE).get_page(request.GET.get("page"))
    report = minutes_chain_verify()
    return render(
        request,
        "retention/minutes_list.html",
        {
            "page": page,
            "rows": [MinutesPage(minutes=item, body=item.body) for item in page],
            "report": report,
            "problem": _chain_problem(report),
            "fingerprint": signing.fingerprint(),
            "signing_key_url": _signing_key_url(request),
        },
    )


def _minutes_or_404(seq: int) -> DestructionMinutes:
    return get_object_or_404(DestructionMinutes.objects.select_related("run"), seq=seq)


@role_required(*ANY_ROLE)
@require_GET
def minutes_detail_view(request, seq: int):
    minutes = _minutes_or_404(seq)
    status = minutes_record_status(minutes=minutes)
    return render(
        request,
        "retention/minutes_detail.html",
        {
            "record": MinutesPage(minutes=minutes, body=minutes.body),
            "minutes": minutes,
            "status": status,
            "problem": _chain_problem(status.chain),
            "fingerprint": signing.fingerprint(),
            "signing_key_url": _signing_key_url(request),
            "algorithm": minutes_chain.ALGORITHM,
        },
    )


@role_required(*ANY_ROLE)
@require_GET
def minutes_pdf_view(request, seq: int):
    """The record as a Turkish PDF (imha tutanağı), the document the Regulation asks to keep."""
    minutes = _minutes_or_404(seq)
    with translation.override("tr"):
        html = render_to_string(
            "retention/minutes_pdf.html",
            {
                "record": MinutesPage(minutes=minutes, body=minutes.body),
                "minutes": minutes,
                "base_css": BASE_CSS,
                "fingerprint": signing.fingerprint(),
                "signing_key_url": _signing_key_url(request),
            },
        )
    response = HttpResponse(html_to_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_file_name(minutes, "pdf")}"'
    return response


def _json_response(document: dict, file_name: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


@role_required(*ANY_ROLE)
@require_GET
def minutes_json_view(request, seq: int):
    """One record with how to check it: scripts/minutes_verify.py and the public key suffice."""
    minutes = _minutes_or_404(seq)
    return _json_response(
        minutes_document(records=[minutes], single=True), _file_name(minutes, "json")
    )


@role_required(*ANY_ROLE)
@require_GET
def minutes_chain_json_view(request):
    """Every kept record, in seq order, for checking the chain as a whole offline."""
    records = DestructionMinutes.objects.order_by("seq")
    name = f"imha-tutanaklari-{connection.schema_name}.json"
    return _json_response(minutes_document(records=records), name)


urlpatterns = [
    path("minutes/", minutes_list_view, name="minutes_list"),
    path("minutes/chain.json", minutes_chain_json_view, name="minutes_chain_json"),
    path("minutes/<int:seq>/", minutes_detail_view, name="minutes_detail"),
    path("minutes/<int:seq>/pdf/", minutes_pdf_view, name="minutes_pdf"),
    path("minutes/<int:seq>/json/", minutes_json_view, name="minutes_json"),
]
