"""Staff forms of data-subject applications: the queue's filters and search, an application's
handling, and registering an application that came by another channel."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from config.kvkk import ApplicationChannel, ApplicationRight
from requests.forms_applicant import FOREIGN_ID_WRONG, NATIONALITY_WRONG, ApplicantIdentityMixin
from requests.models import ApplicationStatus
from requests.selectors import officers
from requests.services import Identity, document_type

_DATE_ATTRS = {"attrs": {"type": "date"}, "format": "%Y-%m-%d"}
_MOMENT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

# What a scanned application may be, by its content (never by its name or declared type).
SCAN_WRONG_TYPE = _("Upload the scan as a PDF, JPEG or PNG file.")
SCAN_TOO_LARGE = _("The file is larger than %(limit)d MB.")
SCAN_EMPTY = _("The file is empty.")
IDENTITY_MISSING = _(
    "Give a T.C. identity number, or for a foreign national the nationality and a passport "
    "or identity document number."
)
RECEIVED_IN_FUTURE = _("An application cannot be received in the future.")


class QuickSelect(forms.Select):
    """A select rendered in Python: the queue's filters render on every page view, and the
    template-per-option widget cost more than the queue's query (about 1 ms a select)."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        chosen = "" if value is None else str(value)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, " selected" if str(key) == chosen else "", label)
                for key, label in self.choices
            ),
        )
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(attrs), options)


class _QuickInput:
    """An input rendered in Python, for the forms on the queue and an application's page."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        value = self.format_value(value)
        shown = format_html(' value="{}"', value) if value not in (None, "") else ""
        return format_html(
            '<input type="{}" name="{}"{}{}>', self.input_type, name, shown, flatatt(attrs)
        )


class QuickTextInput(_QuickInput, forms.TextInput):
    pass


class QuickDateInput(_QuickInput, forms.DateInput):
    pass


class QuickTextarea(forms.Textarea):
    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        return format_html(
            '<textarea name="{}"{}>\n{}</textarea>',
            name,
            flatatt(attrs),
            self.format_value(value) or "",
        )


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("open", _("Open")), ("all", _("All")), *ApplicationStatus.choices],
        widget=QuickSelect,
    )
    right = forms.ChoiceField(
        label=_("Right"),
        required=False,
        choices=[("", _("Any")), *ApplicationRight.choices],
        widget=QuickSelect,
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("Any")), *ApplicationChannel.choices],
        widget=QuickSelect,
    )
    officer = forms.ChoiceField(label=_("Officer"), required=False, widget=QuickSelect)
    due = forms.ChoiceField(
        label=_("Due"),
        required=False,
        choices=[("", _("Any time")), ("overdue", _("Overdue")), ("soon", _("Within 7 days"))],
        widget=QuickSelect,
    )
    due_from = forms.DateField(
        label=_("Due from"), required=False, widget=QuickDateInput(**_DATE_ATTRS)
    )
    due_to = forms.DateField(
        label=_("Due until"), required=False, widget=QuickDateInput(**_DATE_ATTRS)
    )
    reference = forms.CharField(
        label=_("Reference"), required=False, max_length=20, widget=QuickTextInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].choices = [
            ("", _("Anyone")),
            ("mine", _("Assigned to me")),
            ("unassigned", _("Unassigned")),
            *[(str(user.pk), user.get_full_name() or user.username) for user in officers()],
        ]


class IdentifierSearchForm(forms.Form):
    identifier = forms.CharField(
        label=_("Subject identifier"),
        max_length=254,
        widget=QuickTextInput,
        help_text=_("T.C. identity number, NAT:PASSPORT, e-mail, phone or customer number."),
    )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=officers(),
        required=False,
        empty_label=_("Nobody"),
        widget=QuickSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        field.queryset = officers()
        # Read once as a list: the model field's own iterator opens a server-side cursor.
        field.widget.choices = [
            ("", field.empty_label),
            *[(user.pk, user.get_full_name() or user.username) for user in field.queryset],
        ]


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Internal note"), max_length=5000, widget=QuickTextarea(attrs={"rows": 3})
    )


class QuestionForm(forms.Form):
    text = forms.CharField(
        label=_("Question to the applicant"),
        max_length=5000,
        widget=QuickTextarea(attrs={"rows": 3}),
        help_text=_(
            "The applicant reads it on the follow page after entering a one-time code; the "
            "e-mail only says that there is a question. The 30-day clock keeps running."
        ),
    )


class SpamForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this spam?"), min_length=5, max_length=500, widget=QuickTextInput
    )


class ChannelApplicationForm(ApplicantIdentityMixin, forms.Form):
    """An application received by letter, KEP, e-signature, mobile signature or a registered
    e-mail address, typed in by staff from its scanned document."""

    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[c for c in ApplicationChannel.choices if c[0] != ApplicationChannel.WEB],
    )
    received_at = forms.DateTimeField(label=_("Received at"), widget=_MOMENT)
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    tckn = forms.CharField(label=_("T.C. identity number"), max_length=11, required=False)
    nationality = forms.CharField(
        label=_("Nationality (foreign nationals)"), max_length=2, required=False
    )
    foreign_id = forms.CharField(
        label=_("Passport or identity document number"), max_length=20, required=False
    )
    address = forms.CharField(
        label=_("Address for notices"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    rights = forms.MultipleChoiceField(
        label=_("Rights requested"),
        choices=ApplicationRight.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    details = forms.CharField(
        label=_("What the applicant asks"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    on_behalf = forms.BooleanField(label=_("On behalf of someone else"), required=False)
    document = forms.FileField(
        label=_("Scanned application"),
        help_text=_("The signed letter or the received document: PDF, JPEG or PNG."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("received_at", timezone.localtime().replace(second=0))

    def clean_received_at(self):
        value = self.cleaned_data["received_at"]
        if value > timezone.now():
            raise ValidationError(RECEIVED_IN_FUTURE)
        return value

    def clean_document(self):
        upload = self.cleaned_data["document"]
        limit = settings.APPLICATION_UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(SCAN_TOO_LARGE % {"limit": max(limit // (1024 * 1024), 1)})
        content = upload.read()
        if not content:
            raise ValidationError(SCAN_EMPTY)
        content_type = document_type(content)
        if content_type is None:
            raise ValidationError(SCAN_WRONG_TYPE)
        return (upload.name, content, content_type)

    def clean(self):
        data = super().clean()
        if any(self.errors.get(name) for name in ("tckn", "nationality", "foreign_id")):
            return data
        nationality, foreign_id = data.get("nationality"), data.get("foreign_id")
        if data.get("tckn"):
            return data
        if not nationality and not foreign_id:
            self.add_error("tckn", IDENTITY_MISSING)
        elif not nationality:
            self.add_error("nationality", NATIONALITY_WRONG)
        elif not foreign_id:
            self.add_error("foreign_id", FOREIGN_ID_WRONG)
        return data

    def identity(self) -> Identity:
        data = self.cleaned_data
        if data["tckn"]:
            return Identity(tckn=data["tckn"])
        return Identity(nationality=data["nationality"], foreign_id=data["foreign_id"])

    def applicant(self) -> dict[str, str]:
        data = self.cleaned_data
        return {
            key: data[key].strip()
            for key in ("first_name", "last_name", "address", "email", "phone")
        }
