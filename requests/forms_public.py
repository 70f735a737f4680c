"""Forms of the public application pages (no log-in).

Each field's errors are tied to it for screen readers: a field in error carries
``aria-invalid`` and ``aria-describedby`` naming its error (and help) text, which the
templates render with the ids ``<field id>_error`` and ``<field id>_help``.
"""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from config.kvkk import ApplicationRight
from requests.forms_applicant import ApplicantIdentityMixin
from requests.verification import EMAIL, PHONE
from subjects.validators import (
    normalize_email,
    normalize_phone,
)

TCKN_NEEDED = _("Enter your T.C. identity number.")
NATIONALITY_NEEDED = _("Enter your nationality.")
FOREIGN_ID_NEEDED = _("Enter your passport or identity number.")
REPRESENTATIVE_NEEDED = _("Enter the name of the person who applies on the other's behalf.")
REPRESENTATIVE_CONTACT_NEEDED = _("Enter how we can reach the representative.")
POA_NEEDED = _("Attach the power of attorney.")
NOT_SENT = _("Your application could not be sent. Leave the hidden field empty and try again.")
CODE_FORMAT = _("Enter the 6 digits of the code.")
REFERENCE_FORMAT = _("Enter the reference as written, e.g. BSV-2026-000123.")

_REFERENCE = re.compile(r"BSV-[0-9]{4}-[0-9]{6}")
_CODE = re.compile(r"[0-9]{6}")


class AccessibleForm(forms.Form):
    """Ties each field's help and errors to it with ``aria-describedby``."""

    def full_clean(self):
        super().full_clean()
        for name, field in self.fields.items():
            described = []
            bound = self[name]
            if field.help_text:
                described.append(f"{bound.auto_id}_help")
            if name in self.errors:
                described.append(f"{bound.auto_id}_error")
                field.widget.attrs["aria-invalid"] = "true"
            if described:
                field.widget.attrs["aria-describedby"] = " ".join(described)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"{self[name].auto_id}_help"
            if field.required and not isinstance(
                field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple
            ):
                field.widget.attrs["aria-required"] = "true"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


class ApplicationForm(ApplicantIdentityMixin, AccessibleForm):
    """The application (başvuru) as the Communiqué on applications asks for it (Art. 5)."""

    TCKN = "tckn"
    FOREIGN = "foreign"

    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    identity_kind = forms.ChoiceField(
        label=_("Identity document"),
        choices=[
            (TCKN, _("T.C. identity number (citizens of Türkiye)")),
            (FOREIGN, _("Nationality and passport or identity number (foreigners)")),
        ],
        initial=TCKN,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    tckn = forms.CharField(
        label=_("T.C. identity number"),
        max_length=11,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    nationality = forms.CharField(
        label=_("Nationality (country code)"),
        max_length=2,
        required=False,
        help_text=_("Two letters as in ISO 3166, e.g. DE for Germany, IR for Iran."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 3}),
    )
    foreign_id = forms.CharField(
        label=_("Passport or identity number"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    address = forms.CharField(
        label=_("Address for notices"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )
    email = forms.CharField(
        label=_("E-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        help_text=_("Optional, e.g. +90 532 123 45 67."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    rights = forms.MultipleChoiceField(
        label=_("What do you request? (choose one or more)"),
        choices=ApplicationRight.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        error_messages={"required": _("Choose at least one right.")},
    )
    details = forms.CharField(
        label=_("Your application"),
        max_length=5000,
        help_text=_("Describe what you ask for. At most 5000 characters."),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    attachments = MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("Optional. PDF, JPEG or PNG files."),
    )
    on_behalf = forms.BooleanField(
        label=_("I apply on behalf of someone else (with a power of attorney)"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    representative_name = forms.CharField(
        label=_("Representative's name and surname"), max_length=200, required=False
    )
    representative_contact = forms.CharField(
        label=_("Representative's e-mail or phone"), max_length=200, required=False
    )
    power_of_attorney = forms.FileField(
        label=_("Power of attorney"),
        required=False,
        help_text=_("Required when you apply on someone else's behalf. PDF, JPEG or PNG."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    # A field people never see (hidden from sight and from screen readers); programs that
    # fill in every field give themselves away.
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_website(self) -> str:
        if self.cleaned_data["website"]:
            raise ValidationError(NOT_SENT)
        return ""

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        return normalize_phone(value) if value else ""

    def clean(self):
        data = super().clean()
        if data.get("identity_kind") == self.TCKN:
            if "tckn" in data and not data["tckn"]:
                self.add_error("tckn", TCKN_NEEDED)
        elif data.get("identity_kind") == self.FOREIGN:
            if "nationality" in data and not data["nationality"]:
                self.add_error("nationality", NATIONALITY_NEEDED)
            if "foreign_id" in data and not data["foreign_id"]:
                self.add_error("foreign_id", FOREIGN_ID_NEEDED)
        if data.get("on_behalf"):
            if not data.get("representative_name", "").strip():
                self.add_error("representative_name", REPRESENTATIVE_NEEDED)
            if not data.get("representative_contact", "").strip():
                self.add_error("representative_contact", REPRESENTATIVE_CONTACT_NEEDED)
            if not data.get("power_of_attorney") and "power_of_attorney" not in self.errors:
                self.add_error("power_of_attorney", POA_NEEDED)
        return data

    def applicant(self) -> dict[str, str]:
        data = self.cleaned_data
        applicant = {
            "first_name": data["first_name"].strip(),
            "last_name": data["last_name"].strip(),
            "address": data["address"].strip(),
            "email": data["email"],
            "phone": data["phone"],
        }
        if data["on_behalf"]:
            applicant["representative_name"] = data["representative_name"].strip()
            applicant["representative_contact"] = data["representative_contact"].strip()
        return applicant


class MediumForm(AccessibleForm):
    medium = forms.ChoiceField(
        label=_("Where should we send the code?"),
        choices=[(EMAIL, _("E-mail")), (PHONE, _("Phone (text message)"))],
        initial=EMAIL,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )


class CodeForm(AccessibleForm):
    code = forms.CharField(
        label=_("Code"),
        max_length=6,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "size": 8}
        ),
    )

    def clean_code(self) -> str:
        value = self.cleaned_data["code"].strip()
        if not _CODE.fullmatch(value):
            raise ValidationError(CODE_FORMAT)
        return value


class FollowForm(MediumForm):
    reference = forms.CharField(
        label=_("Reference"),
        max_length=20,
        help_text=_("As we gave it to you, e.g. BSV-2026-000123."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    field_order = ["reference", "medium"]

    def clean_reference(self) -> str:
        value = self.cleaned_data["reference"].strip().upper()
        if not _REFERENCE.fullmatch(value):
            raise ValidationError(REFERENCE_FORMAT)
        return value


class ReplyForm(AccessibleForm):
    text = forms.CharField(
        label=_("Your reply"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )


class DocumentForm(AccessibleForm):
    document = forms.FileField(
        label=_("Document"),
        help_text=_("PDF, JPEG or PNG."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
