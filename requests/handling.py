"""Staff handling of an application (başvurunun işlenmesi): reading it, assigning it, internal
notes, questions to the applicant, marking spam, checking the identity against the signed
document. KVKK Art. 13: the controller answers within thirty days; none of this stops the
clock.

Each act goes to simple-history (the row's change) and to the processing log.
"""

import logging
import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.models import Action
from config.errors import PortalError
from config.kvkk import ApplicationChannel
from requests import services
from requests.crypto import open_text, seal_text
from requests.models import (
    OPEN_STATUSES,
    Application,
    ApplicationDocument,
    ApplicationMessage,
    ApplicationNote,
    ApplicationStatus,
    IdentityMethod,
)

logger = logging.getLogger(__name__)

NOT_AN_OFFICER = _("Applications can be assigned only to a controller admin or request officer.")
EMPTY_TEXT = _("Write something first.")
CLOSED_FOR_QUESTIONS = _("Questions can be asked only while the application is open.")
WEB_IDENTITY = _(
    "A web application's identity is verified by a code or an electronic signature, not by staff."
)
ALREADY_VERIFIED = _("The identity is already verified.")


def applicant_read(application: Application, *, actor: Any, request=None) -> dict[str, str]:
    """The applicant's fields, opened for staff; seeing them is a processing act."""
    applicant = services.applicant_of(application)
    services.log(
        application, action=Action.READ, event="applicant_read", actor=actor, request=request
    )
    return applicant


def details_of(application: Application) -> str:
    return open_text(application, "details_enc")


def document_read(document: ApplicationDocument, *, actor: Any, request=None) -> bytes:
    """A document's content for staff; the download is logged."""
    content = services.document_content(document)
    services.log(
        document.application,
        action=Action.EXPORT,
        event="document_download",
        actor=actor,
        request=request,
        kind=document.kind,
        document=str(document.uuid),
    )
    return content


def document_name(document: ApplicationDocument) -> str:
    return open_text(document, "name_enc")


@transaction.atomic
def application_assign(
    application: Application, *, assignee: Any, actor: Any, request=None
) -> Application:
    """Give the application to an officer (or to nobody)."""
    services.role_check(actor)
    if assignee is not None and (not assignee.is_active or assignee.role not in services.HANDLERS):
        raise PortalError(NOT_AN_OFFICER, field="assignee")
    application = Application.objects.select_for_update().get(pk=application.pk)
    previous = application.assignee
    application.assignee = assignee
    application._history_user = actor
    application.save(update_fields=["assignee", "updated_at"])
    services.log(
        application,
        event="assigned",
        actor=actor,
        request=request,
        **{
            "from": previous.username if previous else "",
            "to": assignee.username if assignee else "",
        },
    )
    return application


@transaction.atomic
def note_add(application: Application, *, text: str, actor: Any, request=None) -> ApplicationNote:
    """An internal note, sealed; never shown to the applicant."""
    services.role_check(actor)
    if not text.strip():
        raise PortalError(EMPTY_TEXT, field="text")
    note = ApplicationNote(application=application, author=actor)
    seal_text(note, "text_enc", text.strip())
    note._history_user = actor
    note.save(force_insert=True)
    services.log(
        application, action=Action.CREATE, event="note_added", actor=actor, request=request
    )
    return note


def notes_of(application: Application) -> list[tuple[ApplicationNote, str]]:
    notes = application.notes.select_related("author")
    return [(note, open_text(note, "text_enc")) for note in notes]


def messages_of(application: Application) -> list[tuple[ApplicationMessage, str]]:
    rows = application.messages.select_related("author")
    return [(message, open_text(message, "text_enc")) for message in rows]


def _follow_url() -> str:
    tenant = getattr(connection, "tenant", None)
    base_url = getattr(tenant, "base_url", "")
    try:
        path = reverse("intake:follow")
    except NoReverseMatch:  # the public pages' entry, wherever the follow page sits in it
        path = "/basvuru/"
    return f"{base_url}{path}" if base_url else ""


def question_send(
    application: Application, *, text: str, actor: Any, request=None
) -> ApplicationMessage:
    """Ask the applicant a question. They read it on the follow page after a one-time code;
    the e-mail says only that there is a question (its text may hold personal data).

    Asking does not stop the thirty days (Art. 13(2)).
    """
    services.role_check(actor)
    if not text.strip():
        raise PortalError(EMPTY_TEXT, field="text")
    if application.status not in OPEN_STATUSES:
        raise PortalError(CLOSED_FOR_QUESTIONS, field="text")
    with transaction.atomic():
        message = ApplicationMessage(
            application=application,
            direction=ApplicationMessage.Direction.TO_APPLICANT,
            author=actor,
        )
        seal_text(message, "text_enc", text.strip())
        message._history_user = actor
        message.save(force_insert=True)
        services.log(
            application, action=Action.CREATE, event="question_asked", actor=actor, request=request
        )
    email = services.applicant_of(application).get("email", "")
    if email:
        transaction.on_commit(lambda: _question_notice(application, email))
    return message


def _question_notice(application: Application, email: str) -> None:
    tenant = getattr(connection, "tenant", None)
    with translation.override(settings.LANGUAGE_CODE):
        try:
            _question_mail(application, email, tenant)
        except (OSError, smtplib.SMTPException):
            # The question is saved and shown on the follow page; staff see the failure here.
            logger.exception("Question notice for %s not sent", application.reference)
            services.log(application, event="question_notice_failed")


def _question_mail(application: Application, email: str, tenant) -> None:
    send_mail(
        subject=gettext("A question about your application %(reference)s")
        % {"reference": application.reference},
        message=render_to_string(
            "requests/work/email_question.txt",
            {"application": application, "tenant": tenant, "follow_url": _follow_url()},
        ),
        from_email=None,
        recipient_list=[email],
    )


def spam_mark(application: Application, *, reason: str, actor: Any, request=None) -> Application:
    """Staff mark an application as spam (abuse of the form); the reason is logged."""
    services.role_check(actor)
    if len(reason.strip()) < 5:
        raise PortalError(EMPTY_TEXT, field="reason")
    return services.status_change(
        application, ApplicationStatus.SPAM, actor=actor, request=request, reason=reason.strip()
    )


def identity_staff_check(application: Application, *, actor: Any, request=None) -> Application:
    """Identity verified by staff against the signed document of a non-web channel (a wet
    signature, KEP, e-signature or mobile signature checked on receipt)."""
    services.role_check(actor)
    if application.channel == ApplicationChannel.WEB:
        raise PortalError(WEB_IDENTITY, code="web_identity")
    if application.identity_verified_at is not None:
        raise PortalError(ALREADY_VERIFIED, code="verified")
    return services.identity_verified(
        application, method=IdentityMethod.STAFF_CHECK, actor=actor, request=request
    )


def transitions_allowed(application: Application) -> list[tuple[str, str]]:
    """Statuses the application may move to by a button (spam has its own form)."""
    allowed = services.TRANSITIONS[application.status] - {ApplicationStatus.SPAM}
    if application.identity_verified_at is None:
        allowed -= {ApplicationStatus.IN_PROGRESS}
    if not application.outcome:  # answered only by releasing the letter
        allowed -= {ApplicationStatus.ANSWERED}
    order = list(ApplicationStatus.values)
    return [(to, ApplicationStatus(to).label) for to in sorted(allowed, key=order.index)]


def history_of(application: Application) -> list[dict]:
    """simple-history's rows of the application: who changed which fields, when."""
    records = list(application.history.select_related("history_user").order_by("history_date"))
    rows, previous = [], None
    for record in records:
        changed = []
        if previous is not None:
            changed = [change.field for change in record.diff_against(previous).changes]
        rows.append(
            {
                "at": record.history_date,
                "user": record.history_user,
                "type": record.get_history_type_display(),
                "fields": changed,
                "status": record.get_status_display(),
            }
        )
        previous = record
    return list(reversed(rows))
