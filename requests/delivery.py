"""What the applicant may download once the answer is released, and the one-time download.

The applicant follows an application with its reference and a one-time code (the follow
page, ``requests.verification``). A successful follow code opens a short session that
names the code; each released file can be downloaded once per code.

Files: an ``AnswerLetter`` keeps its PDF at ``path``; an ``AccessPackage`` keeps
``files = {"json"|"csv"|"pdf": {"path", "name", "content_type", "size"}}``. Both are
sealed with ``requests.crypto.seal_file`` for their own row.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import Action
from config.errors import PortalError
from requests.crypto import open_file
from requests.models import (
    AccessPackage,
    AnswerLetter,
    Application,
    ApplicationCode,
    JobStatus,
)
from requests.services import log

# The session key that maps an application's uuid to the follow code that opened it.
FOLLOW_SESSION_KEY = "intake_follow"
# How long a follow code, once used, keeps the follow page and its downloads open.
FOLLOW_SESSION_MINUTES = 30

DOWNLOAD_GONE = _(
    "This download is no longer available: each file can be downloaded once per code. "
    "Ask for a new code on the follow page."
)


@dataclass(frozen=True)
class ReleasedFile:
    key: str
    label: str
    name: str
    content_type: str
    size: int


def released_files(application: Application) -> list[ReleasedFile]:
    """The answer letters and access-package files released to the applicant."""
    files: list[ReleasedFile] = []
    letters = AnswerLetter.objects.filter(
        application=application, status=JobStatus.RELEASED
    ).order_by("pk")
    for letter in letters:
        files.append(
            ReleasedFile(
                key=f"letter-{letter.pk}",
                label=str(_("Answer letter (PDF)")),
                name=f"{application.reference}-cevap-{letter.pk}.pdf",
                content_type="application/pdf",
                size=0,
            )
        )
    packages = AccessPackage.objects.filter(
        application=application, status=JobStatus.RELEASED
    ).order_by("pk")
    labels = {
        "json": _("Your data (JSON)"),
        "csv": _("Your data (CSV)"),
        "pdf": _("Your data (PDF)"),
    }
    for package in packages:
        for kind, meta in sorted(package.files.items()):
            files.append(
                ReleasedFile(
                    key=f"package-{package.pk}-{kind}",
                    label=str(labels.get(kind, kind)),
                    name=meta["name"],
                    content_type=meta["content_type"],
                    size=meta.get("size", 0),
                )
            )
    return files


def _content(application: Application, key: str) -> bytes:
    kind, _sep, rest = key.partition("-")
    if kind == "letter":
        letter = AnswerLetter.objects.get(
            application=application, pk=int(rest), status=JobStatus.RELEASED
        )
        with default_storage.open(letter.path, "rb") as handle:
            return open_file(letter, handle.read())
    package_id, _sep, file_kind = rest.partition("-")
    package = AccessPackage.objects.get(
        application=application, pk=int(package_id), status=JobStatus.RELEASED
    )
    with default_storage.open(package.files[file_kind]["path"], "rb") as handle:
        return open_file(package, handle.read())


def follow_code(request, application: Application) -> ApplicationCode | None:
    """The follow code this browser used for the application, if still within its session."""
    code_id = request.session.get(FOLLOW_SESSION_KEY, {}).get(str(application.uuid))
    if code_id is None:
        return None
    code = ApplicationCode.objects.filter(
        pk=code_id, application=application, purpose=ApplicationCode.Purpose.FOLLOW
    ).first()
    if code is None or code.used_at is None:
        return None
    if code.used_at + timedelta(minutes=FOLLOW_SESSION_MINUTES) < timezone.now():
        return None
    return code


def follow_session_open(request, application: Application, code: ApplicationCode) -> None:
    """Remember, in this browser's session, the follow code just used for the application."""
    opened = dict(request.session.get(FOLLOW_SESSION_KEY, {}))
    opened[str(application.uuid)] = code.pk
    request.session[FOLLOW_SESSION_KEY] = opened
    request.session.cycle_key()


@transaction.atomic
def download_once(request, application: Application, key: str) -> tuple[ReleasedFile, bytes]:
    """A released file's content, once per follow code; the download is logged."""
    code = follow_code(request, application)
    wanted = {released.key: released for released in released_files(application)}
    if code is None or key not in wanted:
        raise PortalError(DOWNLOAD_GONE, code="gone", status=404)
    code = ApplicationCode.objects.select_for_update().get(pk=code.pk)
    if key in code.downloads_used:
        raise PortalError(DOWNLOAD_GONE, code="gone", status=410)
    code.downloads_used = [*code.downloads_used, key]
    code.save(update_fields=["downloads_used"])
    content = _content(application, key)
    log(
        application,
        action=Action.EXPORT,
        event="answer_downloaded",
        actor_label="applicant",
        request=request,
        file=key,
    )
    return wanted[key], content
