"""The public e-signature form: a reference and the signed document (with its signed file)."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from requests.esign import NOT_SIGNED, document_kind

TOO_LARGE = _("The file is larger than the limit (%(limit)s).")
EMPTY = _("The file is empty.")


def _read_limited(upload) -> bytes:
    limit = settings.ESIGN_MAX_BYTES
    if upload.size > limit:
        raise forms.ValidationError(TOO_LARGE % {"limit": filesizeformat(limit)}, code="too_large")
    data = upload.read()
    if not data:
        raise forms.ValidationError(EMPTY, code="empty")
    return data


class EsignVerifyForm(forms.Form):
    """Rendered by templates/requests/esign/fragment_fields.html (labels, help and errors
    tied to their inputs for screen readers)."""

    reference = forms.CharField(
        label=_("Application reference"),
        max_length=20,
        help_text=_("As given when you filed the application, e.g. BSV-2026-000123."),
    )
    signed_file = forms.FileField(
        label=_("Signed document"),
        help_text=_(
            "A PDF signed with your secure electronic or mobile signature (PAdES), or a "
            "signature file (.p7s)."
        ),
    )
    signed_content = forms.FileField(
        label=_("Signed file (only with a .p7s)"),
        required=False,
        help_text=_("The file the .p7s signature was made over, if it is not inside it."),
    )

    def clean_reference(self) -> str:
        return self.cleaned_data["reference"].strip().upper()

    def clean_signed_file(self) -> bytes:
        data = _read_limited(self.cleaned_data["signed_file"])
        if not document_kind(data):
            raise forms.ValidationError(NOT_SIGNED, code="not_signed")
        return data

    def clean_signed_content(self) -> bytes | None:
        upload = self.cleaned_data.get("signed_content")
        return _read_limited(upload) if upload else None
