"""The public application form's writes: a web application, the applicant's replies and files.

Files are checked before anything is written: their type is sniffed from the content (PDF,
JPEG, PNG only; the name and the browser's claimed type count for nothing), and each has a
size limit and the form a count limit (``settings.INTAKE_ATTACHMENT_*``). The application,
its documents and its processing-log entries are written in one transaction.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import Action
from config.errors import PortalError
from config.kvkk import ApplicationChannel, ApplicationRight
from requests.crypto import open_text, seal_text
from requests.models import (
    Application,
    ApplicationDocument,
    ApplicationMessage,
    ApplicationStatus,
)
from requests.services import (
    Identity,
    application_register,
    days_left,
    document_store,
    document_type,
    log,
)

FILE_TYPE_REFUSED = _("“%(name)s” is not a PDF, JPEG or PNG file.")
FILE_TOO_BIG = _("“%(name)s” is larger than %(limit)s.")
FILE_EMPTY = _("“%(name)s” is empty.")
TOO_MANY_FILES = _("Attach at most %(count)s files.")
CLOSED = _("This application is closed; it can no longer be added to.")


@dataclass(frozen=True)
class Upload:
    name: str
    content: bytes
    content_type: str


def upload_check(uploaded, *, field: str) -> Upload:
    """Read an uploaded file within the size limit and sniff its type; refuse otherwise."""
    name = (uploaded.name or "").rsplit("/", 1)[-1][:200]
    limit = settings.INTAKE_ATTACHMENT_MAX_BYTES
    if uploaded.size > limit:
        raise PortalError(
            FILE_TOO_BIG % {"name": name, "limit": filesizeformat(limit)}, field=field
        )
    content = uploaded.read(limit + 1)
    if len(content) > limit:
        raise PortalError(
            FILE_TOO_BIG % {"name": name, "limit": filesizeformat(limit)}, field=field
        )
    if not content:
        raise PortalError(FILE_EMPTY % {"name": name}, field=field)
    content_type = document_type(content)
    if content_type is None:
        raise PortalError(FILE_TYPE_REFUSED % {"name": name}, field=field)
    return Upload(name, content, content_type)


def uploads_check(files, *, field: str) -> list[Upload]:
    if len(files) > settings.INTAKE_ATTACHMENT_MAX_COUNT:
        raise PortalError(
            TOO_MANY_FILES % {"count": settings.INTAKE_ATTACHMENT_MAX_COUNT}, field=field
        )
    return [upload_check(uploaded, field=field) for uploaded in files]


def web_application_submit(
    *,
    applicant: dict[str, str],
    identity: Identity,
    rights: list[str],
    details: str,
    on_behalf: bool,
    attachments: list[Upload],
    power_of_attorney: Upload | None,
    request=None,
) -> Application:
    """Register an application typed into the public form (channel ``web``, Art. 13(1)).

    Nothing is kept if any part fails: the rows roll back and the files already written
    for this application are removed.
    """
    uploads = [(ApplicationDocument.Kind.ATTACHMENT, upload) for upload in attachments]
    if power_of_attorney is not None:
        uploads.insert(0, (ApplicationDocument.Kind.POWER_OF_ATTORNEY, power_of_attorney))
    written: list[str] = []
    try:
        with transaction.atomic():
            application = application_register(
                channel=ApplicationChannel.WEB,
                received_at=timezone.now(),
                rights=rights,
                applicant=applicant,
                identity=identity,
                details=details,
                on_behalf=on_behalf,
                request=request,
            )
            for kind, upload in uploads:
                document = document_store(
                    application,
                    kind=kind,
                    name=upload.name,
                    content=upload.content,
                    content_type=upload.content_type,
                    request=request,
                )
                written.append(document.path)
    except BaseException:
        for path in written:
            default_storage.delete(path)
        raise
    return application


def _open_check(application: Application) -> None:
    if application.status in (ApplicationStatus.CLOSED, ApplicationStatus.SPAM):
        raise PortalError(CLOSED)


@transaction.atomic
def applicant_reply(application: Application, *, text: str, request=None) -> ApplicationMessage:
    """The applicant's answer to a staff question (the 30-day clock runs on regardless)."""
    _open_check(application)
    message = ApplicationMessage(
        application=application, direction=ApplicationMessage.Direction.FROM_APPLICANT
    )
    seal_text(message, "text_enc", text)
    message.save(force_insert=True)
    log(
        application,
        action=Action.CREATE,
        event="applicant_replied",
        actor_label="applicant",
        request=request,
    )
    return message


@transaction.atomic
def applicant_document_add(
    application: Application, *, upload: Upload, request=None
) -> ApplicationDocument:
    """A document the applicant adds on the follow page."""
    _open_check(application)
    return document_store(
        application,
        kind=ApplicationDocument.Kind.APPLICANT_REPLY,
        name=upload.name,
        content=upload.content,
        content_type=upload.content_type,
        request=request,
    )


@dataclass(frozen=True)
class MessageView:
    from_applicant: bool
    created_at: datetime
    text: str


@dataclass(frozen=True)
class FollowView:
    """What the follow page shows the applicant about their application."""

    reference: str
    status: str
    status_label: str
    received_at: datetime
    due_on: date
    days_left: int
    verified: bool
    is_open: bool
    rights: list[str]
    messages: list[MessageView]
    documents: list[tuple[str, datetime]]


def follow_view_of(application: Application) -> FollowView:
    """The application as its applicant may see it after a follow code (no staff notes)."""
    messages = [
        MessageView(
            message.direction == ApplicationMessage.Direction.FROM_APPLICANT,
            message.created_at,
            open_text(message, "text_enc"),
        )
        for message in application.messages.order_by("created_at", "pk")
    ]
    documents = [
        (str(document.get_kind_display()), document.created_at)
        for document in application.documents.order_by("created_at", "pk")
    ]
    return FollowView(
        reference=application.reference,
        status=application.status,
        status_label=str(ApplicationStatus(application.status).label),
        received_at=application.received_at,
        due_on=application.due_on,
        days_left=days_left(application),
        verified=application.identity_verified_at is not None,
        is_open=application.status not in (ApplicationStatus.CLOSED, ApplicationStatus.SPAM),
        rights=[str(ApplicationRight(right).label) for right in application.rights],
        messages=messages,
        documents=documents,
    )
