"""Acting on rights (d), (e), (f), (g) and (ğ) of Art. 11(1) for a verified application.

- (d) correction: through the register's own service (subjects.services.item_update); the
  application is recorded as the reason (ApplicationCorrection and the processing log).
- (e) deletion: through the retention engine's on-demand destruction (one run, with signed
  minutes), never here. What a legal hold or a statutory retention duty keeps is left out,
  and the answer names the rule (category, period, provision) or the hold's reason. An
  application run of the engine destroys every item it is given, except held ones: items
  whose category has a statutory retention period still running are therefore not given to
  it (Art. 7 with Regulation Art. 5: a statute that sets a period is a reason to keep).
- (f) every recipient the transfer log names for the subject gets a notice of the
  correction or deletion (RecipientNotice); the recipient register holds no contact
  address, so notices go by post and staff mark them sent, then record the acknowledgement.
- (g), (ğ): decided by staff with reasons (processing log), with the outcome document.
"""

from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import Action, AuditEntry
from config.errors import PortalError
from config.kvkk import ApplicationRight
from requests.answers import act_check, recipients_of, subject_for_answer
from requests.models import (
    Application,
    ApplicationCorrection,
    ApplicationDocument,
    RecipientNotice,
)
from requests.services import document_store, document_type, log
from retention import selectors as retention_selectors
from retention.destruction import destruction_on_demand
from retention.models import DestructionRun, LegalHold, RetentionRule
from subjects import services as subject_services
from subjects.models import PersonalDataItem
from transfers.models import Recipient

NO_DATA = _("The register holds no data of this applicant: there is nothing to act on.")
RIGHT_NOT_ASKED = _("The application does not ask for this right.")
ITEM_UNKNOWN = _("Choose one of the applicant's items.")
ALREADY_DELETED = _("The deletion of this application has already been executed.")
NOTICE_NOT_SENT = _("Record the notice as sent before its acknowledgement.")
NOTICE_SENT_ALREADY = _("This notice is already recorded as sent.")
ACK_IN_FUTURE = _("The acknowledgement cannot be dated in the future.")
DECISION_INVALID = _("Choose whether the claim is accepted or rejected.")
REASONS_REQUIRED = _("Give the reasons of the decision; the applicant will read them.")
OUTCOME_TYPE = _("The outcome document must be a PDF, PNG or JPEG file.")
OUTCOME_SIZE = _("The outcome document is too large.")


def _right_check(application: Application, *rights: str) -> None:
    if not set(rights) & set(application.rights):
        raise PortalError(RIGHT_NOT_ASKED, code="right_not_asked", status=409)


def _subject(application: Application):
    subject = subject_for_answer(application)
    if subject is None:
        raise PortalError(NO_DATA, code="no_data", status=409)
    return subject


# --- (d) correction --------------------------------------------------------------------------


def correction_apply(
    application: Application, *, item_id: int, value: str, actor, request=None
) -> ApplicationCorrection:
    """Correct one of the applicant's items for the application; its recipients are then
    given a correction notice (f)."""
    act_check(application, actor)
    _right_check(application, ApplicationRight.CORRECTION)
    subject = _subject(application)
    item = (
        PersonalDataItem.objects.filter(pk=item_id, subject=subject, deleted_at__isnull=True)
        .select_related("category")
        .first()
    )
    if item is None:
        raise PortalError(ITEM_UNKNOWN, field="item")
    with transaction.atomic():
        subject_services.item_update(
            item=item, value=value, actor=actor, actor_label="", request=request
        )
        correction = ApplicationCorrection.objects.create(
            application=application,
            item=item,
            corrected_by=actor,
            category=item.category.name[:120],
        )
        # item_update takes no reason: the application is the reason, in the processing log.
        log(application, event="item_corrected", actor=actor, request=request, item=item.pk,
            category=item.category.code, reason=application.reference)  # fmt: skip
        notices_create(
            application,
            kind=RecipientNotice.Kind.CORRECTION,
            recipients=recipients_of(subject),
            actor=actor,
            request=request,
        )
    return correction


# --- (e) deletion ----------------------------------------------------------------------------


def _statute_running(subject_id: int) -> dict[int, int]:
    """Items of the subject whose category's statutory retention period still runs:
    {item id: rule id}. A period counted from an event that has not happened runs on."""
    expiry = retention_selectors.EXPIRY_SQL
    sql = f"""
        SELECT i.id, r.id FROM subjects_personaldataitem i
          JOIN retention_retentionrule r ON r.category_id = i.category_id
          JOIN subjects_datasubject s ON s.id = i.subject_id
         WHERE i.subject_id = %(subject)s AND r.source = 'statute'
           AND ({expiry} IS NULL OR {expiry} > %(now)s)
    """  # noqa: S608 (constant fragments, bound parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"subject": subject_id, "now": timezone.now()})
        return dict(cursor.fetchall())


def deletion_execute(application: Application, *, actor, request=None) -> DestructionRun | None:
    """Right (e): end the applicant's data through the retention engine, with minutes.

    Items under a running statutory period are kept (not given to the engine); items under
    a legal hold are kept by the engine itself. Recipients get a deletion notice (f).
    Returns the run, or None when everything is kept.
    """
    act_check(application, actor)
    _right_check(application, ApplicationRight.DELETION)
    if application.deletion_run_id is not None:
        raise PortalError(ALREADY_DELETED, code="already_deleted", status=409)
    subject = _subject(application)
    recipients = recipients_of(subject)  # before the data goes
    statute = _statute_running(subject.pk)
    run = None
    if not statute:
        run = destruction_on_demand(
            kind=DestructionRun.Kind.APPLICATION,
            reason=application.reference,
            actor=actor,
            subject_ids=[subject.pk],
        )
    else:
        deletable = list(
            PersonalDataItem.objects.filter(subject=subject)
            .exclude(pk__in=list(statute))
            .values_list("pk", flat=True)
        )
        if deletable:
            run = destruction_on_demand(
                kind=DestructionRun.Kind.APPLICATION,
                reason=application.reference,
                actor=actor,
                item_ids=deletable,
            )
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        application.deletion_run = run
        application.save(update_fields=["deletion_run", "updated_at"])
        log(application, action=Action.DESTROY, event="deletion_executed", actor=actor,
            request=request, run=str(run.uuid) if run else "",
            kept_by_statute=len(statute))  # fmt: skip
        notices_create(
            application,
            kind=RecipientNotice.Kind.DELETION,
            recipients=recipients,
            actor=actor,
            request=request,
        )
    return run


def _rule_entry(rule: RetentionRule) -> dict[str, Any]:
    return {
        "category": rule.category.name,
        "period": rule.period,
        "unit_label": str(rule.get_period_unit_display()),
        "event_label": str(rule.get_event_display()),
        "provision": rule.legal_reference,
    }


def deletion_summary(application: Application) -> dict[str, Any]:
    """What the deletion ended and what it kept, and why (for the page and the answer)."""
    application = Application.objects.select_related("deletion_run", "subject").get(
        pk=application.pk
    )
    run = application.deletion_run
    summary: dict[str, Any] = {
        "executed": run is not None or _deletion_logged(application),
        "run": run,
        "ended": sum(entry.get("items", 0) for entry in (run.counts.values() if run else [])),
        "kept_by_rule": [],
        "kept_by_hold": [],
    }
    subject = application.subject
    if subject is None or subject.key_destroyed_at is not None:
        return summary
    remaining = list(PersonalDataItem.objects.filter(subject=subject).select_related("category"))
    if not remaining:
        return summary
    statute = _statute_running(subject.pk)
    rules = RetentionRule.objects.filter(pk__in=set(statute.values())).select_related("category")
    per_rule: dict[int, dict[str, Any]] = {rule.pk: _rule_entry(rule) for rule in rules}
    for rule_id in statute.values():
        per_rule[rule_id]["items"] = per_rule[rule_id].get("items", 0) + 1
    summary["kept_by_rule"] = sorted(per_rule.values(), key=lambda entry: entry["category"])
    held_ids = [item.pk for item in remaining if item.pk not in statute]
    if held_ids:
        holds = _holds_keeping(application, subject, remaining)
        summary["kept_by_hold"] = [
            {"reason": hold.reason, "scope": str(hold.get_scope_display()),
             "ends_on": hold.ends_on}
            for hold in holds
        ]  # fmt: skip
    return summary


def _holds_keeping(application, subject, items) -> list[LegalHold]:
    categories = {item.category_id for item in items}
    holds = retention_selectors.holds_active()
    found = []
    for hold in holds.order_by("pk"):
        if (
            (hold.scope == LegalHold.Scope.SUBJECT and hold.subject_id == subject.pk)
            or (hold.scope == LegalHold.Scope.CATEGORY and hold.category_id in categories)
            or (hold.scope == LegalHold.Scope.REFERENCE and hold.reference in application.reference)
        ):
            found.append(hold)
    if application.deletion_run is not None:
        by_id = {entry["hold"] for entry in application.deletion_run.held}
        found.extend(LegalHold.objects.filter(pk__in=by_id).exclude(pk__in=[h.pk for h in found]))
    return found


def _application_entries(application: Application, event: str):
    """The application's own entries of one event in the processing log, found along the
    subject index when the application names a subject (the log is large)."""
    entries = AuditEntry.objects.filter(
        object_type=Application._meta.label, object_id=str(application.pk), detail__event=event
    )
    if application.subject_id is not None:
        entries = entries.filter(subject_ref=str(application.subject.uuid))
    return entries


def _deletion_logged(application: Application) -> bool:
    return _application_entries(application, "deletion_executed").exists()


# --- (f) recipients --------------------------------------------------------------------------


def notices_create(
    application: Application, *, kind: str, recipients: list[Recipient], actor, request=None
) -> list[RecipientNotice]:
    """A notice of the correction or deletion for each recipient, once per kind."""
    created = []
    for recipient in recipients:
        notice, new = RecipientNotice.objects.get_or_create(
            application=application, recipient=recipient, kind=kind
        )
        if new:
            created.append(notice)
    if created:
        log(application, event="recipient_notices", actor=actor, request=request, kind=kind,
            recipients=[notice.recipient_id for notice in created])  # fmt: skip
    return created


def _notice_locked(notice: RecipientNotice, actor) -> RecipientNotice:
    act_check(notice.application, actor)
    return (
        RecipientNotice.objects.select_for_update().select_related("application").get(pk=notice.pk)
    )


@transaction.atomic
def notice_mark_sent(notice: RecipientNotice, *, actor, request=None) -> RecipientNotice:
    """Staff sent the notice by post (or registered e-mail): record when and who."""
    notice = _notice_locked(notice, actor)
    if notice.sent_at is not None:
        raise PortalError(NOTICE_SENT_ALREADY, code="sent", status=409)
    notice.sent_at = timezone.now()
    notice.sent_by = actor
    notice.save(update_fields=["sent_at", "sent_by"])
    log(notice.application, event="recipient_notice_sent", actor=actor, request=request,
        recipient=notice.recipient_id, kind=notice.kind)  # fmt: skip
    return notice


@transaction.atomic
def notice_acknowledge(
    notice: RecipientNotice, *, on: date, note: str = "", actor, request=None
) -> RecipientNotice:
    """Record the recipient's acknowledgement of the notice."""
    notice = _notice_locked(notice, actor)
    if notice.sent_at is None:
        raise PortalError(NOTICE_NOT_SENT, field="acknowledged_on", status=409)
    if on > timezone.localdate():
        raise PortalError(ACK_IN_FUTURE, field="acknowledged_on")
    notice.acknowledged_at = timezone.make_aware(datetime.combine(on, time(12)))
    notice.acknowledgement = note.strip()[:300]
    notice.save(update_fields=["acknowledged_at", "acknowledgement"])
    log(notice.application, event="recipient_notice_acknowledged", actor=actor,
        request=request, recipient=notice.recipient_id, kind=notice.kind)  # fmt: skip
    return notice


# --- (g) and (ğ) -----------------------------------------------------------------------------

CLAIM_DECISIONS = ("accepted", "rejected")


@transaction.atomic
def claim_decide(
    application: Application, *, right: str, decision: str, reasons: str, actor, request=None
) -> None:
    """Record the decision on an objection (g) or a compensation claim (ğ), with reasons."""
    act_check(application, actor)
    if right not in (ApplicationRight.OBJECT_AUTOMATED, ApplicationRight.COMPENSATION):
        raise PortalError(RIGHT_NOT_ASKED, field="right")
    _right_check(application, right)
    if decision not in CLAIM_DECISIONS:
        raise PortalError(DECISION_INVALID, field="decision")
    reasons = reasons.strip()
    if not reasons:
        raise PortalError(REASONS_REQUIRED, field="reasons")
    log(application, event="claim_decided", actor=actor, request=request, right=right,
        decision=decision, reasons=reasons[:4000])  # fmt: skip


def claim_decisions(application: Application) -> dict[str, dict[str, Any]]:
    """The latest decision per right (g, ğ): {"g": {"decision", "reasons", "at"}}."""
    decisions: dict[str, dict[str, Any]] = {}
    if not set(application.rights) & {ApplicationRight.OBJECT_AUTOMATED,
                                      ApplicationRight.COMPENSATION}:  # fmt: skip
        return decisions
    entries = _application_entries(application, "claim_decided").order_by("id")
    for entry in entries:
        decisions[entry.detail["right"]] = {
            "decision": entry.detail["decision"],
            "reasons": entry.detail["reasons"],
            "at": entry.at,
        }
    return decisions


def outcome_attach(
    application: Application, *, name: str, content: bytes, actor, request=None
) -> ApplicationDocument:
    """Attach the outcome document of a decision (its type read from its bytes)."""
    act_check(application, actor)
    if len(content) > settings.ATTACHMENT_MAX_BYTES:
        raise PortalError(OUTCOME_SIZE, field="document")
    content_type = document_type(content)
    if content_type is None:
        raise PortalError(OUTCOME_TYPE, field="document")
    with transaction.atomic():
        return document_store(
            application,
            kind=ApplicationDocument.Kind.OUTCOME,
            name=name,
            content=content,
            content_type=content_type,
            actor=actor,
            request=request,
        )
