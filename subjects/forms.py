from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from subjects.models import ApiToken, IdentifierKind


class SubjectSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Identifier"),
        max_length=254,
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": _("TCKN, e-mail, phone, customer no. or NAT:PASSPORT")}
        ),
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Any kind")), *IdentifierKind.choices]
    )


class ReadPurposeForm(forms.Form):
    purpose = forms.CharField(
        label=_("Purpose of this read"),
        min_length=5,
        max_length=255,
        help_text=_("Recorded in the audit trail, e.g. the application number you are answering."),
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=pgettext_lazy("API token", "Name"),
        max_length=80,
        help_text=_("Which system uses it, e.g. CRM."),
    )
    scope = forms.ChoiceField(
        label=_("Scope"), choices=ApiToken.Scope.choices, initial=ApiToken.Scope.WRITE
    )
