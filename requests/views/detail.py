"""An application's page for staff, and its handling: assignment, notes, questions, statuses,
spam, the identity checked by staff, documents. The rules live in requests.handling and
requests.services; every action is a POST and ends in a redirect."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import ANY_ROLE, WRITERS, role_required, user_has_role
from config.errors import PortalError
from config.kvkk import APPLICATION_ANSWER_DAYS, ApplicationChannel
from requests import handling, selectors, services
from requests.esign import esign_check_document
from requests.forms import AssignForm, NoteForm, QuestionForm, SpamForm
from requests.models import (
    OPEN_STATUSES,
    AccessPackage,
    AnswerLetter,
    Application,
    ApplicationDocument,
    ApplicationStatus,
    JobStatus,
)

ASSIGNED = _("The assignment is saved.")
NOTE_ADDED = _("The note is added.")
QUESTION_SENT = _("The question is sent. The applicant was told by e-mail that there is one.")
STATUS_CHANGED = _("The status is changed.")
SPAM_MARKED = _("The application is marked as spam.")
IDENTITY_CHECKED = _("The identity is recorded as checked against the signed document.")
SIGNATURE_VERIFIED = _(
    "The document's electronic signature is valid and its signer's T.C. identity number is the "
    "applicant's: the identity is verified."
)
# Documents whose electronic signature staff may have checked (a PAdES PDF or a CMS file).
SIGNABLE_TYPES = {"application/pdf", "application/pkcs7-signature", "application/pkcs7-mime"}


def _application(reference: str) -> Application:
    return get_object_or_404(
        Application.objects.select_related("assignee", "subject", "duplicate_of", "registered_by"),
        reference=reference,
    )


def _form_error(form, exc: PortalError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _detail(request, application: Application, *, status: int = 200, **forms) -> HttpResponse:
    writer = user_has_role(request.user, WRITERS)
    applicant = handling.applicant_read(application, actor=request.user, request=request)
    is_open = application.status in OPEN_STATUSES
    context = {
        "application": application,
        "applicant": applicant,
        "details": handling.details_of(application),
        "rights": selectors.rights_letters(application.rights),
        "days_left": services.days_left(application),
        "is_open": is_open,
        "answer_days": APPLICATION_ANSWER_DAYS,
        "documents": [
            (document, handling.document_name(document)) for document in application.documents.all()
        ],
        "notes": handling.notes_of(application),
        "conversation": handling.messages_of(application),
        "history": handling.history_of(application),
        "failed_packages": list(
            AccessPackage.objects.filter(application=application, status=JobStatus.FAILED).defer(
                "content_enc"
            )
        ),
        "failed_letters": list(
            AnswerLetter.objects.filter(application=application, status=JobStatus.FAILED).defer(
                "body_enc"
            )
        ),
        "can_write": writer,
        "transitions": handling.transitions_allowed(application) if writer else [],
        "can_spam": writer and ApplicationStatus.SPAM in services.TRANSITIONS[application.status],
        "can_check_identity": writer
        and application.channel != ApplicationChannel.WEB
        and application.identity_verified_at is None
        and is_open,
        "signable_types": SIGNABLE_TYPES,
        "assign_form": forms.get("assign_form")
        or AssignForm(initial={"assignee": application.assignee_id}),
        "note_form": forms.get("note_form") or NoteForm(),
        "question_form": forms.get("question_form") or QuestionForm(),
        "spam_form": forms.get("spam_form") or SpamForm(),
    }
    return render(request, "requests/work/detail.html", context, status=status)


@role_required(*ANY_ROLE)
@require_GET
def detail_view(request, reference):
    return _detail(request, _application(reference))


def _form_post(request, reference, form_class, action, success: str, form_name: str):
    """Post one of the page's forms: on success the action runs and the page is shown again;
    otherwise the page comes back with the form's errors by its fields (400)."""
    application = _application(reference)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            action(application, form.cleaned_data)
        except PortalError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, success)
            return redirect("requests:detail", reference=reference)
    return _detail(request, application, status=400, **{form_name: form})


@role_required(*WRITERS)
@require_POST
def assign_view(request, reference):
    def assign(application, data):
        handling.application_assign(
            application, assignee=data["assignee"], actor=request.user, request=request
        )

    return _form_post(request, reference, AssignForm, assign, ASSIGNED, "assign_form")


@role_required(*WRITERS)
@require_POST
def note_view(request, reference):
    def add(application, data):
        handling.note_add(application, text=data["text"], actor=request.user, request=request)

    return _form_post(request, reference, NoteForm, add, NOTE_ADDED, "note_form")


@role_required(*WRITERS)
@require_POST
def question_view(request, reference):
    def send(application, data):
        handling.question_send(application, text=data["text"], actor=request.user, request=request)

    return _form_post(request, reference, QuestionForm, send, QUESTION_SENT, "question_form")


@role_required(*WRITERS)
@require_POST
def status_view(request, reference):
    application = _application(reference)
    target = request.POST.get("to", "")
    if target not in ApplicationStatus.values or target == ApplicationStatus.SPAM:
        messages.error(request, _("Choose a status."))
        return redirect("requests:detail", reference=reference)
    try:
        services.status_change(application, target, actor=request.user, request=request)
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, STATUS_CHANGED)
    return redirect("requests:detail", reference=reference)


@role_required(*WRITERS)
@require_POST
def spam_view(request, reference):
    def mark(application, data):
        handling.spam_mark(application, reason=data["reason"], actor=request.user, request=request)

    return _form_post(request, reference, SpamForm, mark, SPAM_MARKED, "spam_form")


@role_required(*WRITERS)
@require_POST
def identity_check_view(request, reference):
    application = _application(reference)
    try:
        handling.identity_staff_check(application, actor=request.user, request=request)
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, IDENTITY_CHECKED)
    return redirect("requests:detail", reference=reference)


@role_required(*ANY_ROLE)
@require_GET
def document_view(request, reference, uuid):
    """A document of the application as an attachment: never a static or media URL."""
    application = _application(reference)
    document = get_object_or_404(ApplicationDocument, application=application, uuid=uuid)
    content = handling.document_read(document, actor=request.user, request=request)
    response = HttpResponse(content, content_type=document.content_type)
    response["Content-Disposition"] = content_disposition_header(
        True, handling.document_name(document) or "document"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


@role_required(*WRITERS)
@require_POST
def document_esign_view(request, reference, uuid):
    """Verify the identity by the electronic signature of a document already stored with the
    application (an application that came by secure electronic or mobile signature)."""
    application = _application(reference)
    document = get_object_or_404(
        ApplicationDocument, application=application, uuid=uuid, content_type__in=SIGNABLE_TYPES
    )
    try:
        esign_check_document(
            application,
            services.document_content(document),
            actor=request.user,
            request=request,
            store_document=False,
        )
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, SIGNATURE_VERIFIED)
    return redirect("requests:detail", reference=reference)
