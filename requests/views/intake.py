"""The public pages of a controller's host for data subjects: apply, verify, follow.

No log-in (``otp_exempt``). The pages never tell whether a person or a reference is known:
after an application, and after asking for a follow code, everyone sees the same page.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.access import otp_exempt
from config.client_ip import client_ip
from config.errors import PortalError
from requests import throttle
from requests.delivery import follow_code, follow_session_open, released_files
from requests.forms_public import (
    ApplicationForm,
    CodeForm,
    DocumentForm,
    FollowForm,
    MediumForm,
    ReplyForm,
)
from requests.intake import (
    applicant_document_add,
    applicant_reply,
    follow_view_of,
    upload_check,
    uploads_check,
    web_application_submit,
)
from requests.models import Application, ApplicationCode, ApplicationStatus
from requests.services import Identity
from requests.verification import CODE_ATTEMPTS, CODE_DEAD, CODE_MINUTES, CODE_WRONG, code_send
from requests.verification import code_check as verification_code_check

# This browser's application awaiting verification (its uuid), and whether a code was sent.
PENDING_KEY = "intake_pending"
SENT_KEY = "intake_code_sent"
# The reference typed on the follow page, when its code was asked for, and wrong tries for
# a reference that does not exist (counted here so it answers like one that does).
FOLLOW_REFERENCE_KEY = "intake_follow_reference"
FOLLOW_ASKED_KEY = "intake_follow_asked"
FOLLOW_TRIES_KEY = "intake_follow_tries"

REPLY_SAVED = _("Your reply was sent.")
DOCUMENT_SAVED = _("Your document was added.")


def _even_out(started: float) -> None:
    """Let a code request take at least ``INTAKE_CODE_REQUEST_FLOOR_MS``.

    Known and unknown people (and references) cost different work: reading the register's
    address, writing a code, handing a message to the relay. Waiting up to a common floor
    keeps the response time from telling them apart.
    """
    remaining = settings.INTAKE_CODE_REQUEST_FLOOR_MS / 1000 - (time.monotonic() - started)
    if remaining > 0:
        time.sleep(remaining)


def _ip(request) -> str:
    return client_ip(request) or "unknown"


def _limited(request, exc: PortalError):
    return render(request, "requests/public/limited.html", {"message": exc.message}, status=429)


def _form_error(form, exc: PortalError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _followable(reference: str) -> Application | None:
    return (
        Application.objects.filter(reference=reference)
        .exclude(status=ApplicationStatus.SPAM)
        .select_related("subject")
        .first()
    )


@otp_exempt
def form_view(request):
    """The application form (Art. 11 rights a–ğ), on the controller's host."""
    form = ApplicationForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        try:
            throttle.limit("submit-ip", _ip(request), per_hour=settings.INTAKE_SUBMITS_PER_IP_HOUR)
            if form.is_valid():
                data = form.cleaned_data
                attachments = uploads_check(data["attachments"], field="attachments")
                proxy = (
                    upload_check(data["power_of_attorney"], field="power_of_attorney")
                    if data["on_behalf"]
                    else None
                )
                if data["identity_kind"] == ApplicationForm.TCKN:
                    identity = Identity(tckn=data["tckn"])
                else:
                    identity = Identity(
                        nationality=data["nationality"], foreign_id=data["foreign_id"]
                    )
                throttle.limit(
                    "submit-identity",
                    identity.index(),
                    per_hour=settings.INTAKE_SUBMITS_PER_IDENTITY_HOUR,
                )
                application = web_application_submit(
                    applicant=form.applicant(),
                    identity=identity,
                    rights=data["rights"],
                    details=data["details"].strip(),
                    on_behalf=data["on_behalf"],
                    attachments=attachments,
                    power_of_attorney=proxy,
                    request=request,
                )
                request.session[PENDING_KEY] = str(application.uuid)
                request.session.pop(SENT_KEY, None)
                return redirect("intake:verify")
            status = 400
        except PortalError as exc:
            if exc.status == 429:
                return _limited(request, exc)
            _form_error(form, exc)
            status = exc.status
    return render(request, "requests/public/form.html", {"form": form}, status=status)


def _pending(request) -> Application | None:
    key = request.session.get(PENDING_KEY)
    return Application.objects.filter(uuid=key).first() if key else None


@otp_exempt
def verify_view(request):
    """After the form: the reference, the choice of medium, and the code.

    What the page says does not depend on whether the register knows the person.
    """
    application = _pending(request)
    if application is None:
        return redirect("intake:follow")
    medium_form = MediumForm()
    code_form = CodeForm()
    status = 200
    if request.method == "POST" and application.identity_verified_at is None:
        action = request.POST.get("action")
        try:
            if action == "send":
                medium_form = MediumForm(request.POST)
                if medium_form.is_valid():
                    started = time.monotonic()
                    throttle.limit(
                        "code-ip", _ip(request), per_hour=settings.INTAKE_CODES_PER_IP_HOUR
                    )
                    throttle.limit(
                        "code-identity",
                        application.identity_index,
                        per_hour=settings.INTAKE_CODES_PER_IDENTITY_HOUR,
                    )
                    throttle.resend_limit(ApplicationCode.Purpose.VERIFY, application.reference)
                    code_send(
                        application,
                        purpose=ApplicationCode.Purpose.VERIFY,
                        medium=medium_form.cleaned_data["medium"],
                        request=request,
                    )
                    request.session[SENT_KEY] = True
                    _even_out(started)
                    return redirect("intake:verify")
            else:
                code_form = CodeForm(request.POST)
                if code_form.is_valid():
                    throttle.limit(
                        "check-ip", _ip(request), per_hour=settings.INTAKE_CHECKS_PER_IP_HOUR
                    )
                    throttle.limit(
                        "check-identity",
                        application.identity_index,
                        per_hour=settings.INTAKE_CHECKS_PER_IDENTITY_HOUR,
                    )
                    verification_code_check(
                        application,
                        purpose=ApplicationCode.Purpose.VERIFY,
                        code=code_form.cleaned_data["code"],
                        request=request,
                    )
                    return redirect("intake:verify")
            status = 400
        except PortalError as exc:
            form = medium_form if action == "send" else code_form
            if exc.field is None and exc.status == 429:
                return _limited(request, exc)
            _form_error(form, exc)
            status = exc.status
    return render(
        request,
        "requests/public/verify.html",
        {
            "reference": application.reference,
            "verified": application.identity_verified_at is not None,
            "sent": request.session.get(SENT_KEY, False),
            "medium_form": medium_form,
            "code_form": code_form,
            "minutes": CODE_MINUTES,
            "attempts": CODE_ATTEMPTS,
        },
        status=status,
    )


@otp_exempt
def follow_view(request):
    """Following an application: its reference, and where to send a one-time code."""
    form = FollowForm(request.POST or None)
    status = 200
    if request.method == "POST":
        try:
            if form.is_valid():
                reference = form.cleaned_data["reference"]
                started = time.monotonic()
                throttle.limit("code-ip", _ip(request), per_hour=settings.INTAKE_CODES_PER_IP_HOUR)
                # Counted for every reference typed, known or not, so the limit tells nothing.
                throttle.resend_limit(ApplicationCode.Purpose.FOLLOW, reference)
                application = _followable(reference)
                if application is not None:
                    code_send(
                        application,
                        purpose=ApplicationCode.Purpose.FOLLOW,
                        medium=form.cleaned_data["medium"],
                        request=request,
                    )
                request.session[FOLLOW_REFERENCE_KEY] = reference
                request.session[FOLLOW_ASKED_KEY] = timezone.now().timestamp()
                request.session[FOLLOW_TRIES_KEY] = 0
                _even_out(started)
                return redirect("intake:follow_code")
            status = 400
        except PortalError as exc:
            if exc.field is None and exc.status == 429:
                return _limited(request, exc)
            _form_error(form, exc)
            status = exc.status
    return render(request, "requests/public/follow.html", {"form": form}, status=status)


def _follow_unknown_check(request) -> None:
    """A code for a reference that does not exist fails as a real one would."""
    tries = request.session.get(FOLLOW_TRIES_KEY, 0)
    asked = request.session.get(FOLLOW_ASKED_KEY, 0)
    expired = timezone.now().timestamp() > asked + CODE_MINUTES * 60
    if tries >= CODE_ATTEMPTS or expired:
        raise PortalError(CODE_DEAD, field="code")
    request.session[FOLLOW_TRIES_KEY] = tries + 1
    raise PortalError(CODE_DEAD if tries + 1 >= CODE_ATTEMPTS else CODE_WRONG, field="code")


@otp_exempt
def follow_code_view(request):
    reference = request.session.get(FOLLOW_REFERENCE_KEY)
    if not reference:
        return redirect("intake:follow")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        try:
            if form.is_valid():
                throttle.limit(
                    "check-ip", _ip(request), per_hour=settings.INTAKE_CHECKS_PER_IP_HOUR
                )
                application = _followable(reference)
                if application is None:
                    _follow_unknown_check(request)
                code = verification_code_check(
                    application,
                    purpose=ApplicationCode.Purpose.FOLLOW,
                    code=form.cleaned_data["code"],
                    request=request,
                )
                follow_session_open(request, application, code)
                return redirect("intake:follow_status", reference=reference)
            status = 400
        except PortalError as exc:
            if exc.field is None and exc.status == 429:
                return _limited(request, exc)
            _form_error(form, exc)
            status = exc.status
    return render(
        request,
        "requests/public/follow_code.html",
        {"form": form, "reference": reference, "minutes": CODE_MINUTES},
        status=status,
    )


def _followed(request, reference: str) -> Application | None:
    """The application this browser opened with a follow code, or None (unknown alike)."""
    application = _followable(reference)
    if application is None or follow_code(request, application) is None:
        return None
    return application


def _status_page(request, application, *, reply_form=None, document_form=None, status=200):
    return render(
        request,
        "requests/public/follow_status.html",
        {
            "view": follow_view_of(application),
            "application": application,
            "files": released_files(application),
            "reply_form": reply_form or ReplyForm(),
            "document_form": document_form or DocumentForm(),
        },
        status=status,
    )


@otp_exempt
def follow_status_view(request, reference: str):
    application = _followed(request, reference)
    if application is None:
        return redirect("intake:follow")
    return _status_page(request, application)


@otp_exempt
@require_POST
def follow_reply_view(request, reference: str):
    application = _followed(request, reference)
    if application is None:
        return redirect("intake:follow")
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            applicant_reply(application, text=form.cleaned_data["text"].strip(), request=request)
        except PortalError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, REPLY_SAVED)
            return redirect("intake:follow_status", reference=reference)
    return _status_page(request, application, reply_form=form, status=400)


@otp_exempt
@require_POST
def follow_document_view(request, reference: str):
    application = _followed(request, reference)
    if application is None:
        return redirect("intake:follow")
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            upload = upload_check(form.cleaned_data["document"], field="document")
            applicant_document_add(application, upload=upload, request=request)
        except PortalError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, DOCUMENT_SAVED)
            return redirect("intake:follow_status", reference=reference)
    return _status_page(request, application, document_form=form, status=400)
