"""Sending a text message (SMS) with a one-time code.

The portal has no SMS operator contract of its own: each installation names its sender in
``settings.SMS_BACKEND`` (a dotted path to a class with ``send(number, text)``). The default,
``EmailGatewaySmsBackend``, hands the message to the portal's e-mail relay addressed to
``<number digits>@<SMS_EMAIL_GATEWAY_DOMAIN>``: the form of an operator's e-mail-to-SMS
gateway. Until an installation sets a real gateway domain, the message only reaches the
mail relay (under ``make run``, the local SMTP sink, where the code can be read): no text
message reaches a phone.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string


class EmailGatewaySmsBackend:
    """An SMS as an e-mail to an e-mail-to-SMS gateway (see the module's docstring)."""

    def send(self, number: str, text: str) -> None:
        digits = number.lstrip("+")
        send_mail(
            subject=f"SMS {number}",
            message=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[f"{digits}@{settings.SMS_EMAIL_GATEWAY_DOMAIN}"],
        )


def sms_send(number: str, text: str) -> None:
    """Send ``text`` to the phone ``number`` (E.164) with the configured backend."""
    import_string(settings.SMS_BACKEND)().send(number, text)
