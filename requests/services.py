"""The core of data-subject applications: registering one, its clock, its status, its files.

Every change of an application goes to simple-history (who changed which field) and to
the processing log (``audit``), with the purpose ``APPLICATION_PURPOSE``.
"""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import filetype
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from audit.models import Action
from audit.services import audit_entry_create
from config.errors import PortalError
from config.kvkk import APPLICATION_ANSWER_DAYS, ApplicationChannel, ApplicationRight
from requests.crypto import open_file, open_json, seal_file, seal_json, seal_text
from requests.models import (
    OPEN_STATUSES,
    Application,
    ApplicationCounter,
    ApplicationDocument,
    ApplicationStatus,
)
from subjects.crypto import keyring
from subjects.models import DataSubject, IdentifierKind, SubjectIdentifier
from subjects.validators import normalize_passport, normalize_tckn

# The purpose every processing-log entry about applications carries.
APPLICATION_PURPOSE = "data_subject_application"
# Reference numbers: BSV-<year>-<six digits> (Başvuru).
REFERENCE_PREFIX = "BSV"
# Staff who handle applications; auditors read.
HANDLERS = (Role.CONTROLLER_ADMIN, Role.REQUEST_OFFICER)

NOT_ALLOWED = _("Your role may not do this.")
NO_RIGHT = _("Choose at least one right.")
UNKNOWN_RIGHT = _("Unknown right.")
RECEIVED_IN_FUTURE = _("An application cannot be received in the future.")
TRANSITION_REFUSED = _("An application in status “%(from)s” cannot move to “%(to)s”.")
NOT_VERIFIED = _(
    "The applicant's identity is not verified yet: the application is handled only after that."
)
ANSWER_BY_LETTER = _(
    "An application is answered by releasing its answer letter, which records the outcome and "
    "its reasons."
)

# The workflow: received → identity check → in progress → answered → closed; spam from any
# open status. An answered application may be reopened to in progress (a follow-up).
TRANSITIONS: dict[str, set[str]] = {
    ApplicationStatus.RECEIVED: {
        ApplicationStatus.IDENTITY_CHECK,
        ApplicationStatus.IN_PROGRESS,
        ApplicationStatus.SPAM,
    },
    ApplicationStatus.IDENTITY_CHECK: {ApplicationStatus.IN_PROGRESS, ApplicationStatus.SPAM},
    ApplicationStatus.IN_PROGRESS: {ApplicationStatus.ANSWERED, ApplicationStatus.SPAM},
    ApplicationStatus.ANSWERED: {ApplicationStatus.CLOSED, ApplicationStatus.IN_PROGRESS},
    ApplicationStatus.CLOSED: set(),
    ApplicationStatus.SPAM: set(),
}


def local_date(moment: datetime) -> date:
    """The calendar day of a moment in Türkiye (the law counts calendar days there)."""
    return timezone.localtime(moment).date()


def due_on(received_at: datetime) -> date:
    """The last day of the answer: thirty calendar days from receipt (Art. 13(2))."""
    return local_date(received_at) + timedelta(days=APPLICATION_ANSWER_DAYS)


def days_left(application: Application, *, today: date | None = None) -> int:
    """Days until the deadline (0 on the last day; negative once overdue)."""
    return (application.due_on - (today or local_date(timezone.now()))).days


def _reference_next(year: int) -> str:
    ApplicationCounter.objects.get_or_create(year=year)
    counter = ApplicationCounter.objects.select_for_update().get(year=year)
    counter.last = F("last") + 1
    counter.save(update_fields=["last"])
    counter.refresh_from_db(fields=["last"])
    return f"{REFERENCE_PREFIX}-{year}-{counter.last:06d}"


def role_check(user, roles=HANDLERS) -> None:
    if not (user.is_authenticated and user.is_active and user.role in roles):
        raise PortalError(NOT_ALLOWED, code="forbidden", status=403)


def log(
    application: Application,
    *,
    action: str = Action.UPDATE,
    event: str,
    actor: Any = None,
    actor_label: str = "",
    request=None,
    **detail,
) -> None:
    audit_entry_create(
        action=action,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=actor_label,
        target=application,
        subject_ref=str(application.subject.uuid) if application.subject_id else "",
        purpose=APPLICATION_PURPOSE,
        detail={"event": event, "reference": application.reference, **detail},
        request=request,
    )


@dataclass(frozen=True)
class Identity:
    """Who the applicant says they are: a TCKN, or a nationality and a foreign document."""

    tckn: str = ""
    nationality: str = ""
    foreign_id: str = ""

    def _passport(self) -> str:
        # The register holds a passport as "nationality:number" (subjects.validators).
        return normalize_passport(f"{self.nationality}:{self.foreign_id}")

    def index(self) -> bytes:
        """The blind index of this identity, as the register would hold it."""
        ring = keyring()
        if self.tckn:
            return ring.blind_index(IdentifierKind.TCKN, normalize_tckn(self.tckn))
        return ring.blind_index(IdentifierKind.PASSPORT, self._passport())


def subject_of(identity: Identity) -> DataSubject | None:
    """The register's subject with this identity number, if exactly one is held and alive."""
    rows = list(
        SubjectIdentifier.objects.filter(blind_index=identity.index())
        .select_related("subject")
        .values_list("subject", flat=True)
        .distinct()[:2]
    )
    if len(rows) != 1:
        return None
    subject = DataSubject.objects.get(pk=rows[0])
    return None if subject.is_shredded else subject


def _rights_clean(rights) -> list[str]:
    values = list(dict.fromkeys(rights))
    if not values:
        raise PortalError(NO_RIGHT, field="rights")
    if any(value not in ApplicationRight.values for value in values):
        raise PortalError(UNKNOWN_RIGHT, field="rights")
    return values


@transaction.atomic
def application_register(
    *,
    channel: str,
    received_at: datetime,
    rights,
    applicant: dict[str, str],
    identity: Identity,
    details: str,
    on_behalf: bool = False,
    documents: list[tuple[str, str, bytes, str]] = (),
    actor: Any = None,
    request=None,
) -> Application:
    """Register an application from any channel. ``applicant`` holds the typed fields
    (first_name, last_name, address, email, phone, representative...); ``documents`` are
    (kind, file name, content, sniffed content type), already checked by the caller.

    Web applications start in "received" and wait for identity verification; staff
    registering another channel may mark the identity as checked against the document.
    """
    if received_at > timezone.now() + timedelta(minutes=1):
        raise PortalError(RECEIVED_IN_FUTURE, field="received_at")
    application = Application(
        reference=_reference_next(local_date(received_at).year),
        channel=channel,
        received_at=received_at,
        due_on=due_on(received_at),
        rights=_rights_clean(rights),
        on_behalf=on_behalf,
        identity_index=identity.index(),
        subject=subject_of(identity),
        registered_by=actor if channel != ApplicationChannel.WEB else None,
    )
    seal_json(
        application,
        "applicant_enc",
        {**applicant, "tckn": identity.tckn, "nationality": identity.nationality,
         "foreign_id": identity.foreign_id},
    )  # fmt: skip
    seal_text(application, "details_enc", details)
    application.save(force_insert=True)
    log(
        application,
        action=Action.CREATE,
        event="registered",
        actor=actor,
        actor_label="" if actor else "applicant",
        request=request,
        channel=channel,
        rights=application.rights,
    )
    for kind, name, content, content_type in documents:
        document_store(
            application, kind=kind, name=name, content=content, content_type=content_type,
            actor=actor, request=request,
        )  # fmt: skip
    return application


def applicant_of(application: Application) -> dict[str, str]:
    return open_json(application, "applicant_enc") or {}


# The only kinds of file an application carries: scans, attachments, outcome documents.
DOCUMENT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})


def document_type(content: bytes) -> str | None:
    """The content type read from the file's own bytes (never its name), if it is one of
    ``DOCUMENT_TYPES``; None for anything else."""
    kind = filetype.guess(content)
    return kind.mime if kind is not None and kind.mime in DOCUMENT_TYPES else None


def _document_folder() -> str:
    return f"{connection.schema_name}/applications"


def document_store(
    application: Application,
    *,
    kind: str,
    name: str,
    content: bytes,
    content_type: str,
    actor: Any = None,
    request=None,
) -> ApplicationDocument:
    """Seal a file under a random name (never a guessable URL) and record it."""
    document = ApplicationDocument(
        application=application, kind=kind, content_type=content_type, size=len(content)
    )
    seal_text(document, "name_enc", name[:200] or "document")
    if actor is not None and getattr(actor, "is_authenticated", False):
        document.uploaded_by = actor
    path = f"{_document_folder()}/{secrets.token_hex(16)}.bin"
    document.path = default_storage.save(path, ContentFile(seal_file(document, content)))
    try:
        document.save(force_insert=True)
        log(
            application,
            action=Action.CREATE,
            event="document_added",
            actor=actor,
            actor_label="" if actor else "applicant",
            request=request,
            kind=kind,
            size=len(content),
        )
    except BaseException:
        default_storage.delete(document.path)
        raise
    return document


def document_content(document: ApplicationDocument) -> bytes:
    with default_storage.open(document.path, "rb") as handle:
        return open_file(document, handle.read())


@transaction.atomic
def status_change(
    application: Application, to: str, *, actor: Any = None, request=None, **detail
) -> Application:
    """Move an application along the workflow; refused outside ``TRANSITIONS``."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    if to not in TRANSITIONS[application.status]:
        raise PortalError(
            TRANSITION_REFUSED
            % {
                "from": ApplicationStatus(application.status).label,
                "to": ApplicationStatus(to).label,
            },
            code="transition",
        )
    if to == ApplicationStatus.IN_PROGRESS and application.identity_verified_at is None:
        raise PortalError(NOT_VERIFIED, code="not_verified")
    if to == ApplicationStatus.ANSWERED and not application.outcome:
        raise PortalError(ANSWER_BY_LETTER, code="answer_by_letter")
    previous = application.status
    application.status = to
    fields = ["status", "updated_at"]
    if to == ApplicationStatus.CLOSED:
        application.closed_at = timezone.now()
        fields.append("closed_at")
    application.save(update_fields=fields)
    log(
        application,
        event="status",
        actor=actor,
        request=request,
        **{"from": previous, "to": to},
        **detail,
    )
    return application


@transaction.atomic
def identity_verified(
    application: Application,
    *,
    method: str,
    destination: str = "",
    actor: Any = None,
    request=None,
) -> Application:
    """Record the verified identity and move the application to "in progress".

    Only now is a second open application of the same person for the same right linked to
    the first: before verification a stranger could otherwise block the real person's.
    """
    application = Application.objects.select_for_update().get(pk=application.pk)
    application.identity_verified_at = timezone.now()
    application.identity_method = method
    application.verified_destination = destination
    earlier = (
        Application.objects.filter(
            identity_index=application.identity_index,
            status__in=OPEN_STATUSES,
            identity_verified_at__isnull=False,
            rights__overlap=application.rights,
        )
        .exclude(pk=application.pk)
        .order_by("received_at", "pk")
        .first()
    )
    if earlier is not None and application.duplicate_of_id is None:
        application.duplicate_of = earlier
    application.save(
        update_fields=[
            "identity_verified_at",
            "identity_method",
            "verified_destination",
            "duplicate_of",
            "updated_at",
        ]
    )
    log(
        application,
        event="identity_verified",
        actor=actor,
        actor_label="" if actor else "applicant",
        request=request,
        method=method,
        duplicate_of=earlier.reference if earlier else "",
    )
    if application.status in (ApplicationStatus.RECEIVED, ApplicationStatus.IDENTITY_CHECK):
        application = status_change(
            application, ApplicationStatus.IN_PROGRESS, actor=actor, request=request
        )
    return application


def subject_known(application: Application) -> bool:
    return application.subject_id is not None
