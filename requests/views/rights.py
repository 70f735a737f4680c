"""Staff pages of acting on the rights of a verified application: the generated answer
(a-ç), the access package and its review, correction (d), deletion (e), recipients (f),
objections and compensation (g, ğ), fees.

Personal data is shown only after a POST that logs the read; a short read grant in the
session then lets the page show it again without a second entry (POST → redirect → GET).
"""

import time
from decimal import Decimal

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import ANY_ROLE, role_required
from config.errors import PortalError
from config.kvkk import ApplicationRight
from requests import actions, answers, fees, package
from requests.crypto import open_text
from requests.forms_rights import (
    AcknowledgementForm,
    ClaimForm,
    CorrectionForm,
    DeletionForm,
    FeeForm,
    OutcomeDocumentForm,
    RedactionForm,
)
from requests.letters import complaint_dates
from requests.models import AccessPackage, Application, ApplicationDocument, RecipientNotice
from requests.services import HANDLERS
from subjects.selectors import subject_decrypt

GRANT_SESSION_KEY = "requests_read_grants"
GRANT_SECONDS = 15 * 60


def _grant_open(request, key: str) -> None:
    grants = {
        k: v for k, v in request.session.get(GRANT_SESSION_KEY, {}).items() if v > time.time()
    }
    grants[key] = time.time() + GRANT_SECONDS
    request.session[GRANT_SESSION_KEY] = grants


def _granted(request, key: str) -> bool:
    return request.session.get(GRANT_SESSION_KEY, {}).get(key, 0) > time.time()


def finished_refresh(request, response, status: str):
    """A polled job that has finished: the whole page reloads, with the job's actions."""
    if request.headers.get("HX-Request") and status not in ("queued", "running"):
        response["HX-Refresh"] = "true"
    return response


def _application(pk: int) -> Application:
    return get_object_or_404(Application.objects.select_related("subject", "deletion_run"), pk=pk)


def _can_act(request) -> bool:
    return request.user.role in HANDLERS


def _error(request, exc: PortalError) -> None:
    messages.error(request, str(exc.message))


def _act(request, call, success: str, application_pk: int):
    """Run one action of the rights page and go back to it, with its message."""
    try:
        call()
    except PortalError as exc:
        _error(request, exc)
    else:
        messages.success(request, success)
    return redirect("requests:rights", application_pk)


def _items(application: Application) -> list[tuple[int, str]]:
    subject = answers.subject_for_answer(application)
    if subject is None:
        return []
    view = subject_decrypt(subject)
    return [(item.id, f"{item.category}: {item.value}") for item in view.items]


def _context(request, application: Application, **forms) -> dict:
    granted = _granted(request, f"answer:{application.pk}")
    verified = application.identity_verified_at is not None
    context = {
        "application": application,
        "verified": verified,
        "can_act": _can_act(request) and verified,
        "granted": granted,
        "answer": None,
        "packages": list(application.packages.order_by("-pk")[:5]),
        "letters": list(application.letters.order_by("-pk")[:5]),
        "notices": list(
            application.recipient_notices.select_related("recipient").order_by(
                "recipient__name", "kind"
            )
        ),
        "corrections": list(application.corrections.select_related("corrected_by")),
        "claims": actions.claim_decisions(application),
        "outcome_documents": [
            (document, open_text(document, "name_enc"))
            for document in application.documents.filter(kind=ApplicationDocument.Kind.OUTCOME)
        ],
        "fee": fees.fee_of(application),
        "fee_due": fees.try_text(fees.fee_due_kurus(application)),
        "dates": complaint_dates(application),
        "rights": set(application.rights),
        "right_labels": [ApplicationRight(right).label for right in application.rights],
        "ack_form": AcknowledgementForm(),
        "deletion_form": forms.get("deletion_form") or DeletionForm(),
        "claim_form": forms.get("claim_form") or ClaimForm(),
        "document_form": forms.get("document_form") or OutcomeDocumentForm(),
        "fee_form": forms.get("fee_form")
        or FeeForm(initial={"medium_cost": Decimal(application.medium_cost_kurus) / 100}),
        "correction_form": forms.get("correction_form"),
    }
    if verified and "e" in context["rights"]:
        context["deletion"] = actions.deletion_summary(application)
    if verified and granted:
        context["answer"] = answers.answer_compute(application, log_read=False)
        if "d" in context["rights"] and context["correction_form"] is None:
            context["correction_form"] = CorrectionForm(items=_items(application))
    return context


def _page(request, application, status=200, **forms):
    return render(
        request, "requests/rights/page.html", _context(request, application, **forms), status=status
    )


@role_required(*ANY_ROLE)
def rights_view(request, pk: int):
    return _page(request, _application(pk))


@require_POST
@role_required(*ANY_ROLE)
def answer_open_view(request, pk: int):
    """Compute the (a)-(ç) answer; the read is logged once, then shown for a while."""
    application = _application(pk)
    try:
        answers.verified_check(application)
        answers.answer_compute(application, actor=request.user, request=request)
    except PortalError as exc:
        _error(request, exc)
    else:
        _grant_open(request, f"answer:{application.pk}")
    return redirect("requests:rights", application.pk)


@require_POST
@role_required(*ANY_ROLE)
def package_request_view(request, pk: int):
    application = _application(pk)
    return _act(
        request,
        lambda: package.package_request(application, actor=request.user, request=request),
        _("The access package is being prepared."),
        application.pk,
    )


def _package(pk: int) -> AccessPackage:
    return get_object_or_404(AccessPackage.objects.select_related("application"), pk=pk)


@require_POST
@role_required(*ANY_ROLE)
def package_retry_view(request, pk: int):
    item = _package(pk)
    return _act(
        request,
        lambda: package.package_retry(item, request.user, request=request),
        _("The access package is queued again."),
        item.application_id,
    )


@role_required(*ANY_ROLE)
def package_status_view(request, pk: int):
    item = _package(pk)
    response = render(request, "requests/rights/fragment_package_status.html", {"package": item})
    return finished_refresh(request, response, item.status)


def _review_context(request, item: AccessPackage, form=None) -> dict:
    granted = _granted(request, f"package:{item.pk}")
    content = package.content_reopen(item) if granted else None
    paths = package.text_fields(content) if content else []
    return {
        "package": item,
        "application": item.application,
        "granted": granted,
        "content": content,
        "readable": package.content_readable(content) if content else None,
        "can_act": _can_act(request) and item.status == "ready",
        "form": form
        or RedactionForm(paths=[(path, f"{path}: {value[:60]}") for path, value in paths]),
    }


@role_required(*ANY_ROLE)
def package_review_view(request, pk: int):
    item = _package(pk)
    if request.method == "POST":  # open the content: the read is logged once
        try:
            package.package_content(item, actor=request.user, request=request)
        except PortalError as exc:
            _error(request, exc)
        else:
            _grant_open(request, f"package:{item.pk}")
        return redirect("requests:package_review", item.pk)
    return render(request, "requests/rights/package_review.html", _review_context(request, item))


@require_POST
@role_required(*ANY_ROLE)
def package_redact_view(request, pk: int):
    item = _package(pk)
    if not _granted(request, f"package:{item.pk}"):
        raise Http404
    content = package.content_reopen(item) or {}
    paths = [(path, path) for path, _value in package.text_fields(content)]
    form = RedactionForm(request.POST, paths=paths)
    if form.is_valid():
        try:
            package.package_redact(item, actor=request.user, request=request, **form.cleaned_data)
        except PortalError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(
                request, _("The redaction is recorded and the files are rendered again.")
            )
            return redirect("requests:package_review", item.pk)
    return render(
        request,
        "requests/rights/package_review.html",
        _review_context(request, item, form=form),
        status=400,
    )


@require_POST
@role_required(*ANY_ROLE)
def package_release_view(request, pk: int):
    item = _package(pk)
    try:
        package.package_release(item, actor=request.user, request=request)
    except PortalError as exc:
        _error(request, exc)
        return redirect("requests:package_review", item.pk)
    messages.success(request, _("The access package is released to the applicant."))
    return redirect("requests:rights", item.application_id)


@require_POST
@role_required(*ANY_ROLE)
def correction_view(request, pk: int):
    application = _application(pk)
    items = _items(application) if application.identity_verified_at else []
    form = CorrectionForm(request.POST, items=items)
    if form.is_valid():
        try:
            actions.correction_apply(
                application,
                item_id=form.cleaned_data["item"],
                value=form.cleaned_data["value"],
                actor=request.user,
                request=request,
            )
        except PortalError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(
                request, _("The item is corrected; its recipients are to be notified.")
            )
            return redirect("requests:rights", application.pk)
    return _page(request, application, status=400, correction_form=form)


@require_POST
@role_required(*ANY_ROLE)
def deletion_view(request, pk: int):
    application = _application(pk)
    form = DeletionForm(request.POST)
    if form.is_valid():
        try:
            actions.deletion_execute(application, actor=request.user, request=request)
        except PortalError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("The deletion is executed; its minutes are recorded."))
            return redirect("requests:rights", application.pk)
    return _page(request, application, status=400, deletion_form=form)


def _notice(pk: int) -> RecipientNotice:
    return get_object_or_404(RecipientNotice.objects.select_related("application"), pk=pk)


@require_POST
@role_required(*ANY_ROLE)
def notice_sent_view(request, pk: int):
    notice = _notice(pk)
    try:
        actions.notice_mark_sent(notice, actor=request.user, request=request)
    except PortalError as exc:
        _error(request, exc)
    return redirect("requests:rights", notice.application_id)


@require_POST
@role_required(*ANY_ROLE)
def notice_ack_view(request, pk: int):
    notice = _notice(pk)
    form = AcknowledgementForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return redirect("requests:rights", notice.application_id)
    try:
        actions.notice_acknowledge(
            notice,
            on=form.cleaned_data["acknowledged_on"],
            note=form.cleaned_data["note"],
            actor=request.user,
            request=request,
        )
    except PortalError as exc:
        _error(request, exc)
    return redirect("requests:rights", notice.application_id)


@require_POST
@role_required(*ANY_ROLE)
def claim_view(request, pk: int):
    application = _application(pk)
    form = ClaimForm(request.POST)
    if form.is_valid():
        try:
            actions.claim_decide(application, actor=request.user, request=request,
                                 **form.cleaned_data)  # fmt: skip
        except PortalError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("The decision is recorded."))
            return redirect("requests:rights", application.pk)
    return _page(request, application, status=400, claim_form=form)


@require_POST
@role_required(*ANY_ROLE)
def outcome_document_view(request, pk: int):
    application = _application(pk)
    form = OutcomeDocumentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["document"]
        try:
            actions.outcome_attach(
                application,
                name=upload.name,
                content=upload.read(),
                actor=request.user,
                request=request,
            )
        except PortalError as exc:
            form.add_error("document", str(exc.message))
        else:
            messages.success(request, _("The outcome document is attached."))
            return redirect("requests:rights", application.pk)
    return _page(request, application, status=400, document_form=form)


@require_POST
@role_required(*ANY_ROLE)
def fee_view(request, pk: int):
    application = _application(pk)
    form = FeeForm(request.POST)
    if form.is_valid():
        try:
            answers.act_check(application, request.user)
            fees.fee_update(
                application,
                medium_cost_kurus=int(form.cleaned_data["medium_cost"] * 100),
                actor=request.user,
                request=request,
            )
        except PortalError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            return redirect("requests:rights", application.pk)
    return _page(request, application, status=400, fee_form=form)


@require_POST
@role_required(*ANY_ROLE)
def controller_error_view(request, pk: int):
    application = _application(pk)
    return _act(
        request,
        lambda: fees.controller_error_set(application, actor=request.user, request=request),
        _("Recorded: any fee is refunded."),
        application.pk,
    )
