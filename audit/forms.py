import re

from django import forms
from django.utils.translation import gettext_lazy as _

from audit.models import Action

SUBJECT_REF_INVALID = _("A subject reference has only the letters a–f, digits and hyphens.")
DATE_ORDER = _("The start date is after the end date.")

_SUBJECT_REF = re.compile(r"^[0-9a-f-]{1,36}$")


class EntryFilterForm(forms.Form):
    """The processing-log page's filters; each may be left empty."""

    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    action = forms.ChoiceField(label=_("Action"), required=False)
    user = forms.TypedChoiceField(label=_("User"), required=False, coerce=int, empty_value=None)
    subject = forms.CharField(label=_("Subject reference"), required=False, max_length=36)

    def __init__(self, *args, users: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("All actions")), *Action.choices]
        self.fields["user"].choices = [("", _("All users")), *users]

    def clean_subject(self) -> str:
        value = self.cleaned_data["subject"].strip().lower()
        if value and not _SUBJECT_REF.match(value):
            raise forms.ValidationError(SUBJECT_REF_INVALID)
        return value

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", DATE_ORDER)
        return cleaned

    def filters(self) -> dict:
        """Keyword arguments for audit_entry_list (only the valid filters)."""
        self.is_valid()
        data = self.cleaned_data  # an invalid filter is left out, the others still apply
        return {
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "action": data.get("action") or "",
            "actor_id": data.get("user"),
            "subject_ref": data.get("subject") or "",
        }
