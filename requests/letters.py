"""The answer letter (cevap yazısı) of an application: Art. 13 and 14, Communiqué Art. 6-7.

The controller edits a template per kind of answer (Turkish defaults are created on first
use) and its letterhead. Staff compose a letter: the outcome (a rejection always has
reasons, and may cite an Art. 28(2) exception), a body drafted from the template with the
generated content (rights a-ç, the deletion, the recipients, decisions on g and ğ) which
they may edit. A worker renders the Turkish PDF with the letterhead. Every letter tells
the applicant of the right to complain to the Board, with the two last dates (Art. 14).
Releasing the letter answers the application and tells the applicant by e-mail that the
answer is ready, without its content: they download it on the follow page.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from audit.models import Action
from config.celery import app
from config.errors import PortalError
from config.kvkk import (
    BOARD_COMPLAINT_DAYS_AFTER_ANSWER,
    BOARD_COMPLAINT_DAYS_AFTER_APPLICATION,
    ApplicationRight,
    Art28Exception,
)
from config.pdf import BASE_CSS, html_to_pdf_paged
from requests import actions, answers, fees
from requests.crypto import open_file, open_json, seal_file, seal_json
from requests.models import (
    AnswerLetter,
    Application,
    ApplicationStatus,
    JobStatus,
    Letterhead,
    LetterTemplate,
    Outcome,
    RecipientNotice,
)
from requests.package import package_pdf_pages
from requests.services import applicant_of, local_date, log, role_check, status_change
from transfers.selectors import subject_recipients

REJECTION_WITHOUT_REASONS = _("A rejection must give its reasons; the applicant will read them.")
OUTCOME_INVALID = _("Choose the outcome of the application.")
ART28_INVALID = _("Unknown Art. 28(2) exception.")
BODY_REQUIRED = _("The letter's text is required.")
LETTER_NOT_READY = _("Only a rendered letter that is ready for review can be released.")
LETTER_NOT_FAILED = _("Only a failed letter can be retried.")
ONLY_ADMIN = _("Only a controller admin may change this.")
TEMPLATE_REQUIRED = _("The subject line and the text are required.")

# Placeholders a template may use; anything else in braces is left as written.
PLACEHOLDERS = ("basvuru_no", "basvuru_tarihi", "ad_soyad", "veri_sorumlusu", "icerik",
                "gerekceler")  # fmt: skip
_PLACEHOLDER = re.compile(r"\{(\w+)\}")

DEFAULT_TEMPLATES = {
    LetterTemplate.Kind.ACCEPTED: (
        _("Answer to your application under the KVKK"),
        _(
            "Dear {ad_soyad},\n\nWe have examined your application no. {basvuru_no} of "
            "{basvuru_tarihi} under Article 13 of the Personal Data Protection Law No. 6698 "
            "(KVKK). Your application has been accepted.\n\n{icerik}"
        ),
    ),
    LetterTemplate.Kind.PARTLY_ACCEPTED: (
        _("Answer to your application under the KVKK"),
        _(
            "Dear {ad_soyad},\n\nWe have examined your application no. {basvuru_no} of "
            "{basvuru_tarihi} under Article 13 of the Personal Data Protection Law No. 6698 "
            "(KVKK). Your application has been partly accepted, for the following reasons:"
            "\n\n{gerekceler}\n\n{icerik}"
        ),
    ),
    LetterTemplate.Kind.REJECTED: (
        _("Answer to your application under the KVKK"),
        _(
            "Dear {ad_soyad},\n\nWe have examined your application no. {basvuru_no} of "
            "{basvuru_tarihi} under Article 13 of the Personal Data Protection Law No. 6698 "
            "(KVKK). Your application has been rejected, for the following reasons:"
            "\n\n{gerekceler}\n\n{icerik}"
        ),
    ),
    LetterTemplate.Kind.NOT_PROCESSED: (
        _("Answer to your application under the KVKK"),
        _(
            "Dear {ad_soyad},\n\nWe have examined your application no. {basvuru_no} of "
            "{basvuru_tarihi} under Article 13 of the Personal Data Protection Law No. 6698 "
            "(KVKK). No personal data about you is processed by {veri_sorumlusu}.\n\n{icerik}"
        ),
    ),
}


# --- Templates and letterhead ----------------------------------------------------------------


def template_get(kind: str) -> LetterTemplate:
    """The controller's template of this kind; the Turkish default is created on first use."""
    template = LetterTemplate.objects.filter(kind=kind).first()
    if template is not None:
        return template
    subject_line, body = DEFAULT_TEMPLATES[kind]
    with translation.override("tr"):
        template, _created = LetterTemplate.objects.get_or_create(
            kind=kind, defaults={"subject_line": str(subject_line), "body": str(body)}
        )
    return template


def templates_all() -> list[LetterTemplate]:
    return [template_get(kind) for kind in LetterTemplate.Kind.values]


def _admin_check(actor) -> None:
    role_check(actor, roles=(Role.CONTROLLER_ADMIN,))


@transaction.atomic
def template_save(*, kind: str, subject_line: str, body: str, actor, request=None):
    _admin_check(actor)
    if not subject_line.strip() or not body.strip():
        raise PortalError(TEMPLATE_REQUIRED, field="body")
    template = template_get(kind)
    template.subject_line = subject_line.strip()[:200]
    template.body = body.strip()
    template.updated_by = actor
    template.save()
    return template


def letterhead_get() -> Letterhead:
    """The controller's letterhead; created from the controller's legal name on first use."""
    letterhead = Letterhead.objects.first()
    if letterhead is None:
        tenant = getattr(connection, "tenant", None)
        letterhead, _created = Letterhead.objects.get_or_create(
            singleton=True, defaults={"name": getattr(tenant, "legal_name", "") or "-"}
        )
    return letterhead


def letterhead_save(*, actor, request=None, **fields) -> Letterhead:
    """Change the letterhead (controller admins); ``fields`` are validated by the form."""
    _admin_check(actor)
    letterhead = letterhead_get()
    for name, value in fields.items():
        setattr(letterhead, name, value)
    letterhead.full_clean()
    letterhead.save()
    return letterhead


# --- Drafting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComplaintDates:
    answered_on: date
    after_answer: date
    after_application: date


def complaint_dates(application: Application, *, answered_on: date | None = None) -> ComplaintDates:
    """The last days to complain to the Board: 30 days after the answer, and in any case
    60 days after the application (Art. 14(1)-(2))."""
    answered_on = answered_on or timezone.localdate()
    return ComplaintDates(
        answered_on=answered_on,
        after_answer=answered_on + timedelta(days=BOARD_COMPLAINT_DAYS_AFTER_ANSWER),
        after_application=local_date(application.received_at)
        + timedelta(days=BOARD_COMPLAINT_DAYS_AFTER_APPLICATION),
    )


def template_kind(application: Application, outcome: str) -> str:
    if outcome == Outcome.ACCEPTED and answers.subject_for_answer(application) is None:
        return LetterTemplate.Kind.NOT_PROCESSED
    return outcome


def generated_content(application: Application, *, actor=None, request=None) -> str:
    """The Turkish text of what was done for each right asked (a-ç, d, e, f, g, ğ)."""
    # Labels (legal bases, units, kinds) are taken in Turkish whatever the staff's language.
    with translation.override("tr"):
        return _generated_content(application, actor=actor, request=request)


def _generated_content(application: Application, *, actor, request) -> str:
    rights = set(application.rights)
    context: dict[str, Any] = {"application": application}
    if rights & {"a", "b", "c", "c2"}:
        context["answer"] = answers.answer_compute(application, actor=actor, request=request)
    if ApplicationRight.CORRECTION in rights:
        context["corrections"] = list(application.corrections.order_by("pk"))
    if ApplicationRight.DELETION in rights:
        context["deletion"] = actions.deletion_summary(application)
    context["notices"] = list(
        application.recipient_notices.select_related("recipient").order_by("recipient__name")
    )
    context["claims"] = actions.claim_decisions(application)
    parts = []
    if "answer" in context:
        parts.append(answers.answer_text(context["answer"]))
    parts.append(render_to_string("requests/rights/letter_content.txt", context).strip())
    return "\n\n".join(part for part in parts if part)


def _fill(text: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def letter_draft(application: Application, *, outcome: str, actor=None, request=None) -> str:
    """The body proposed for a letter of this outcome, for staff to edit. ``{gerekceler}``
    stays as a placeholder: the reasons given with the letter replace it."""
    answers.act_check(application, actor)
    template = template_get(template_kind(application, outcome))
    applicant = applicant_of(application)
    values = {
        "basvuru_no": application.reference,
        "basvuru_tarihi": local_date(application.received_at).strftime("%d.%m.%Y"),
        "ad_soyad": f"{applicant.get('first_name', '')} {applicant.get('last_name', '')}".strip(),
        "veri_sorumlusu": letterhead_get().name,
        "icerik": generated_content(application, actor=actor, request=request),
    }
    return _fill(template.body, values).strip()


# --- Composing, rendering, releasing ---------------------------------------------------------


def _queue(letter: AnswerLetter) -> None:
    schema_name = connection.schema_name
    transaction.on_commit(
        lambda: app.send_task(
            "requests.tasks.letter_render",
            kwargs={"schema_name": schema_name, "letter_id": letter.pk},
        )
    )


def letter_compose(
    application: Application,
    *,
    outcome: str,
    body: str,
    reasons: str = "",
    art28_exception: str = "",
    actor,
    request=None,
) -> AnswerLetter:
    """A letter for the application, queued for rendering. A rejection without reasons is
    refused (the applicant will read them)."""
    answers.act_check(application, actor)
    if outcome not in Outcome.values:
        raise PortalError(OUTCOME_INVALID, field="outcome")
    reasons = reasons.strip()
    if outcome in (Outcome.REJECTED, Outcome.PARTLY_ACCEPTED) and not reasons:
        raise PortalError(REJECTION_WITHOUT_REASONS, field="reasons")
    if art28_exception and art28_exception not in Art28Exception.values:
        raise PortalError(ART28_INVALID, field="art28_exception")
    body = _fill(body, {"gerekceler": reasons}).strip()
    if not body:
        raise PortalError(BODY_REQUIRED, field="body")
    with transaction.atomic():
        letter = AnswerLetter(application=application, outcome=outcome, created_by=actor)
        seal_json(letter, "body_enc", {
            "body": body, "reasons": reasons, "art28_exception": art28_exception,
            "subject_line": template_get(template_kind(application, outcome)).subject_line,
        })  # fmt: skip
        letter.save(force_insert=True)
        log(application, event="letter_composed", actor=actor, request=request,
            letter=letter.pk, outcome=outcome)  # fmt: skip
        _queue(letter)
    return letter


def letter_content(letter: AnswerLetter) -> dict[str, str]:
    return open_json(letter, "body_enc") or {}


@transaction.atomic
def letter_retry(letter: AnswerLetter, actor, request=None) -> AnswerLetter:
    """Queue a failed letter again; its failure text is cleared."""
    answers.act_check(letter.application, actor)
    letter = AnswerLetter.objects.select_for_update().get(pk=letter.pk)
    if letter.status != JobStatus.FAILED:
        raise PortalError(LETTER_NOT_FAILED, code="not_failed", status=409)
    letter.status = JobStatus.QUEUED
    letter.failure = ""
    letter.save(update_fields=["status", "failure"])
    log(letter.application, event="letter_retried", actor=actor, request=request,
        letter=letter.pk)  # fmt: skip
    _queue(letter)
    return letter


def _html(letter: AnswerLetter, content: dict[str, str], fee: fees.Fee, today: date) -> str:
    application = letter.application
    applicant = applicant_of(application)
    with translation.override("tr"):
        return render_to_string(
            "requests/rights/letter_pdf.html",
            {
                "letter": letter,
                "application": application,
                "applicant": applicant,
                "content": content,
                "art28_label": Art28Exception(content["art28_exception"]).label
                if content.get("art28_exception")
                else "",
                "letterhead": letterhead_get(),
                "today": today,
                "dates": complaint_dates(application, answered_on=today),
                "fee": fee,
                "fee_text": fees.try_text(fee.total_kurus),
                "refunded": application.controller_error,
                "base_css": BASE_CSS,
            },
        )


def _package_pages(application: Application) -> int:
    package = (
        application.packages.filter(status__in=[JobStatus.READY, JobStatus.RELEASED])
        .order_by("-pk")
        .first()
    )
    return package_pdf_pages(package) if package else 0


def letter_render(*, letter_id: int) -> str:
    """The worker's job: render the letter's PDF (twice when its own page count changes the
    fee it states), store it sealed, and record the pages and the fee."""
    with transaction.atomic():
        letter = (
            AnswerLetter.objects.select_for_update().select_related("application").get(pk=letter_id)
        )
        if letter.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
            return letter.status
        letter.status = JobStatus.RUNNING
        letter.attempts += 1
        letter.save(update_fields=["status", "attempts"])
    application = letter.application
    path = ""
    try:
        content = letter_content(letter)
        today = timezone.localdate()
        extra = _package_pages(application)
        medium = application.medium_cost_kurus
        fee = fees.fee_compute(pages=max(application.answer_pages, extra), medium_cost_kurus=medium)
        pdf, pages = html_to_pdf_paged(_html(letter, content, fee, today))
        counted = fees.fee_compute(pages=pages + extra, medium_cost_kurus=medium)
        if counted != fee:
            fee = counted
            pdf, pages = html_to_pdf_paged(_html(letter, content, fee, today))
        with transaction.atomic():
            folder = f"{connection.schema_name}/applications/{secrets.token_hex(16)}.bin"
            path = default_storage.save(folder, ContentFile(seal_file(letter, pdf)))
            AnswerLetter.objects.filter(pk=letter.pk).update(
                path=path, pages=pages, status=JobStatus.READY, rendered_at=timezone.now(),
                failure="",
            )  # fmt: skip
            fees.fee_update(application, pages=pages + extra, actor=None)
    except Exception as exc:  # recorded for staff: the failure text is the job's report
        if path:
            default_storage.delete(path)
        AnswerLetter.objects.filter(pk=letter_id).update(
            status=JobStatus.FAILED, failure=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return JobStatus.FAILED
    return JobStatus.READY


def letter_pdf(letter: AnswerLetter, *, actor, request=None) -> bytes:
    """The rendered PDF for staff review; the read is logged."""
    role_check(actor, roles=(Role.CONTROLLER_ADMIN, Role.REQUEST_OFFICER, Role.AUDITOR))
    with default_storage.open(letter.path, "rb") as handle:
        data = open_file(letter, handle.read())
    log(letter.application, action=Action.READ, event="letter_viewed", actor=actor,
        request=request, letter=letter.pk)  # fmt: skip
    return data


def letter_release(letter: AnswerLetter, *, actor, request=None) -> AnswerLetter:
    """Release the letter: the application is answered with its outcome and reasons, and
    the applicant is told by e-mail that the answer is ready (no content in the mail)."""
    answers.act_check(letter.application, actor)
    with transaction.atomic():
        letter = AnswerLetter.objects.select_for_update().get(pk=letter.pk)
        if letter.status != JobStatus.READY:
            raise PortalError(LETTER_NOT_READY, code="not_ready", status=409)
        content = letter_content(letter)
        if letter.outcome == Outcome.REJECTED and not content.get("reasons"):
            raise PortalError(REJECTION_WITHOUT_REASONS, field="reasons")
        application = Application.objects.select_for_update().get(pk=letter.application_id)
        letter.status = JobStatus.RELEASED
        letter.released_at = timezone.now()
        letter.save(update_fields=["status", "released_at"])
        application.outcome = letter.outcome
        application.outcome_reasons = content.get("reasons", "")
        application.art28_exception = content.get("art28_exception", "")
        application.answered_at = letter.released_at
        application.save(update_fields=["outcome", "outcome_reasons", "art28_exception",
                                        "answered_at", "updated_at"])  # fmt: skip
        log(application, action=Action.EXPORT, event="letter_released", actor=actor,
            request=request, letter=letter.pk, outcome=letter.outcome)  # fmt: skip
        if application.status == ApplicationStatus.IN_PROGRESS:
            status_change(application, ApplicationStatus.ANSWERED, actor=actor, request=request)
        schema_name = connection.schema_name
        transaction.on_commit(
            lambda: app.send_task(
                "requests.tasks.answer_ready_mail",
                kwargs={"schema_name": schema_name, "application_id": application.pk},
            )
        )
    return letter


def _follow_url() -> str:
    tenant = getattr(connection, "tenant", None)
    base_url = getattr(tenant, "base_url", "")
    try:
        path = reverse("intake:follow")
    except NoReverseMatch:
        path = reverse("intake:download", args=["-", "-"]).split("takip/")[0] + "takip/"
    return f"{base_url}{path}"


def answer_ready_mail_send(*, application_id: int) -> int:
    """Tell the applicant the answer is ready, without any of its content (Turkish)."""
    application = Application.objects.get(pk=application_id)
    address = applicant_of(application).get("email", "")
    if not address:
        return 0
    with translation.override("tr"):
        subject = gettext("The answer to your application %(reference)s is ready") % {
            "reference": application.reference
        }
        message = render_to_string(
            "requests/rights/email_answer_ready.txt",
            {"application": application, "follow_url": _follow_url(),
             "controller": letterhead_get().name},
        )  # fmt: skip
    sent = send_mail(subject=subject, message=message, from_email=None, recipient_list=[address])
    log(application, event="answer_ready_mailed", actor_label="worker")
    return sent


# --- The notice to a recipient (f) -----------------------------------------------------------


def notice_pdf(notice: RecipientNotice, *, actor, request=None) -> bytes:
    """The printable notice of a correction or deletion to one recipient (Art. 11(1)(f)):
    the applicant as they named themselves, the categories the recipient received, and
    what was done; sent by post (the recipient register holds no address for mail)."""
    application = notice.application
    answers.act_check(application, actor)
    applicant = applicant_of(application)
    categories: list[str] = []
    if application.subject_id is not None:
        for row in subject_recipients(subject=application.subject):
            if row["recipient"].pk == notice.recipient_id:
                categories.extend(name for name in row["categories"] if name not in categories)
    with translation.override("tr"):
        html = render_to_string(
            "requests/rights/notice_pdf.html",
            {"notice": notice, "application": application, "applicant": applicant,
             "categories": categories, "letterhead": letterhead_get(),
             "today": timezone.localdate(), "base_css": BASE_CSS},
        )  # fmt: skip
    data, _pages = html_to_pdf_paged(html)
    log(application, action=Action.EXPORT, event="recipient_notice_printed", actor=actor,
        request=request, recipient=notice.recipient_id, kind=notice.kind)  # fmt: skip
    return data
