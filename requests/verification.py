"""Verifying an applicant's identity with a one-time code (KVKK Art. 13; Communiqué Art. 5).

The code goes to an e-mail address or phone number that the register already holds for the
matched subject, never only to what the applicant typed: whoever types someone else's TCKN
and their own e-mail address must not learn anything about that person. Where the register
holds nothing for the person, the code goes to the address typed, which proves control of
it (``IdentityMethod.ADDRESS_CONTROL``) and the answer will say that no data is processed.

The applicant only chooses the medium (e-mail or phone); the page never shows which
addresses the register holds, so it reads the same whether or not the person is known.

A code is six digits from ``secrets``, kept as an HMAC under the ``SECRET_KEY`` bound to
its application and purpose, valid ``CODE_MINUTES``, and dead after ``CODE_ATTEMPTS`` wrong
tries. The same rules serve the follow code (``ApplicationCode.Purpose.FOLLOW``).
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.models import Action
from config.errors import PortalError
from requests.models import Application, ApplicationCode, IdentityMethod
from requests.services import applicant_of, identity_verified, log
from requests.sms import sms_send
from subjects.selectors import subject_identifiers

CODE_MINUTES = 10
CODE_ATTEMPTS = 5
EMAIL = "email"
PHONE = "phone"
MEDIA = (EMAIL, PHONE)

CODE_WRONG = _("The code is not right. Check it and try again.")
CODE_DEAD = _(
    "This code can no longer be used (it expired, was used, or was entered wrongly too "
    "often). Ask for a new code."
)
UNKNOWN_MEDIUM = _("Choose e-mail or phone.")


def mask_email(address: str) -> str:
    """``ayse@ornek.com.tr`` → ``a***@ornek.com.tr``."""
    local, _sep, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(number: str) -> str:
    """``+905321234512`` → ``+90 5** *** ** 12``."""
    digits = number.lstrip("+")
    if digits.startswith("90") and len(digits) == 12:
        return f"+90 {digits[2]}** *** ** {digits[-2:]}"
    return f"+{digits[:2]} {'*' * max(len(digits) - 4, 1)} {digits[-2:]}"


def mask(medium: str, value: str) -> str:
    return mask_email(value) if medium == EMAIL else mask_phone(value)


def _digest(application: Application, purpose: str, code: str) -> str:
    message = f"{application.uuid}:{purpose}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def destination_of(application: Application, medium: str, *, request=None) -> tuple[str, str]:
    """Where a code of this medium goes, and the identity method it proves.

    A known subject: only the register's own address of that medium (reading it is a
    processing act, logged). An unknown person: the address typed. ``("", "")`` when
    there is none: nothing is sent, and the page says the same as when something is.
    """
    if medium not in MEDIA:
        raise PortalError(UNKNOWN_MEDIUM, field="medium")
    if application.subject_id is not None:
        held = subject_identifiers(application.subject).get(medium, "")
        log(
            application,
            action=Action.READ,
            event="register_contact_read",
            actor_label="applicant",
            request=request,
            medium=medium,
            held=bool(held),
        )
        method = IdentityMethod.EMAIL_CODE if medium == EMAIL else IdentityMethod.PHONE_CODE
        return (held, method) if held else ("", "")
    typed = applicant_of(application).get(medium, "")
    return (typed, IdentityMethod.ADDRESS_CONTROL) if typed else ("", "")


def _message(application: Application, purpose: str, code: str) -> str:
    if purpose == ApplicationCode.Purpose.VERIFY:
        text = gettext("Your code to confirm application %(reference)s: %(code)s")
    else:
        text = gettext("Your code to follow application %(reference)s: %(code)s")
    return (
        text % {"reference": application.reference, "code": code}
        + "\n"
        + gettext("It is valid for %(minutes)s minutes. Do not share it with anyone.")
        % {"minutes": CODE_MINUTES}
    )


def _deliver(medium: str, address: str, text: str, reference: str) -> None:
    if medium == EMAIL:
        send_mail(
            subject=gettext("Your code for application %(reference)s") % {"reference": reference},
            message=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[address],
        )
    else:
        sms_send(address, text)


@transaction.atomic
def code_send(
    application: Application, *, purpose: str, medium: str, request=None
) -> ApplicationCode:
    """Issue a new code of ``purpose`` (earlier ones die) and send it after the commit.

    A code row is written even when there is nowhere to send it (its hash then matches no
    code), so the work done and the page shown are the same either way.
    """
    address, _method = destination_of(application, medium, request=request)
    now = timezone.now()
    ApplicationCode.objects.filter(
        application=application, purpose=purpose, used_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    code = f"{secrets.randbelow(10**6):06d}"
    row = ApplicationCode.objects.create(
        application=application,
        purpose=purpose,
        code_hash=_digest(application, purpose, code if address else secrets.token_hex(16)),
        medium=medium,
        destination=mask(medium, address) if address else "",
        created_at=now,
        expires_at=now + timedelta(minutes=CODE_MINUTES),
    )
    log(
        application,
        event="code_sent",
        actor_label="applicant",
        request=request,
        purpose=purpose,
        medium=medium,
        destination=row.destination,
    )
    if address:
        text = _message(application, purpose, code)
        reference = application.reference
        # robust: a relay that is down is logged; the applicant asks for a new code, and the
        # page (already decided) does not change with it.
        transaction.on_commit(lambda: _deliver(medium, address, text, reference), robust=True)
    return row


def code_check(
    application: Application, *, purpose: str, code: str, request=None
) -> ApplicationCode:
    """Use the latest code of ``purpose``; a wrong one counts against its attempts.

    A right code that verifies identity, or the first right follow code of an application
    not yet verified, records the identity as verified (``services.identity_verified``).
    """
    with transaction.atomic():
        row = (
            ApplicationCode.objects.select_for_update()
            .filter(application=application, purpose=purpose)
            .order_by("-created_at", "-pk")
            .first()
        )
        now = timezone.now()
        if (
            row is None
            or row.used_at is not None
            or row.expires_at <= now
            or row.attempts >= CODE_ATTEMPTS
        ):
            error = CODE_DEAD
        elif not hmac.compare_digest(row.code_hash, _digest(application, purpose, code.strip())):
            row.attempts += 1
            row.save(update_fields=["attempts"])
            error = CODE_DEAD if row.attempts >= CODE_ATTEMPTS else CODE_WRONG
            log(
                application,
                event="code_wrong",
                actor_label="applicant",
                request=request,
                purpose=purpose,
                attempts=row.attempts,
            )
        else:
            error = None
            row.used_at = now
            row.save(update_fields=["used_at"])
            log(
                application, event="code_used", actor_label="applicant", request=request,
                purpose=purpose,
            )  # fmt: skip
            if application.identity_verified_at is None:
                identity_verified(
                    application,
                    method=_method_of(application, row.medium),
                    destination=row.destination,
                    request=request,
                )
    # Raised outside the transaction, so the counted attempt stays counted.
    if error is not None:
        raise PortalError(error, field="code")
    return row


def _method_of(application: Application, medium: str) -> str:
    if application.subject_id is None:
        return IdentityMethod.ADDRESS_CONTROL
    return IdentityMethod.EMAIL_CODE if medium == EMAIL else IdentityMethod.PHONE_CODE
