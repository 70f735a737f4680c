"""Forms of the breach register (KVKK Art. 12(5), C14)."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from subjects.models import DataCategory, SubjectGroup
from transfers.models import Breach, BreachNotice

DATETIME_WIDGET = {"type": "datetime-local"}


def _datetime_field(label, *, required=True, help_text=""):
    return forms.DateTimeField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.DateTimeInput(attrs=DATETIME_WIDGET, format="%Y-%m-%dT%H:%M"),
    )


class BreachForm(forms.ModelForm):
    occurred_at = _datetime_field(_("Occurred at"))
    detected_at = _datetime_field(
        _("Detected at (awareness)"),
        help_text=_("When the controller became aware of it: the Board's 72 hours run from here."),
    )
    categories = forms.ModelMultipleChoiceField(
        label=_("Data categories"),
        queryset=DataCategory.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Breach
        fields = [
            "title",
            "occurred_at",
            "detected_at",
            "source",
            "kind",
            "description",
            "categories",
            "estimated_persons",
            "estimated_records",
            "consequences",
            "measures_taken",
            "measures_planned",
            "contact_name",
            "contact_email",
            "contact_phone",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "consequences": forms.Textarea(attrs={"rows": 3}),
            "measures_taken": forms.Textarea(attrs={"rows": 3}),
            "measures_planned": forms.Textarea(attrs={"rows": 3}),
        }

    def clean(self):
        data = super().clean()
        occurred, detected = data.get("occurred_at"), data.get("detected_at")
        if occurred and detected and detected < occurred:
            self.add_error("detected_at", _("A breach cannot be detected before it occurred."))
        return data

    def _post_clean(self):
        # The service validates the model; the form only checks the fields.
        pass


class BreachNoticeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Notice"), choices=BreachNotice.Kind.choices)
    sent_at = _datetime_field(_("Sent at"))
    content = forms.CharField(label=_("Content"), widget=forms.Textarea(attrs={"rows": 4}))


class SubjectLookupForm(forms.Form):
    """Affected subjects by a typed identifier (posted, never in the address)."""

    value = forms.CharField(
        label=_("Identifier"),
        max_length=254,
        help_text=_("A TCKN, e-mail, phone or customer number held in the register."),
    )


class SubjectFilterForm(forms.Form):
    """Affected subjects by group and data category."""

    group = forms.ModelChoiceField(
        label=_("Subject group"), queryset=SubjectGroup.objects.order_by("name"), required=False
    )
    category = forms.ModelChoiceField(
        label=_("Data category"), queryset=DataCategory.objects.order_by("name"), required=False
    )

    def clean(self):
        data = super().clean()
        if not data.get("group") and not data.get("category"):
            raise forms.ValidationError(_("Choose a subject group or a data category."))
        return data


class SubjectRefsForm(forms.Form):
    """Affected subjects by their register references (one UUID a line)."""

    refs = forms.CharField(
        label=_("Subject references"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The register references of the subjects, one a line."),
    )

    def clean_refs(self):
        refs = []
        for line in self.cleaned_data["refs"].split():
            try:
                refs.append(uuid.UUID(line.strip()))
            except ValueError:
                raise forms.ValidationError(
                    _("“%(value)s” is not a subject reference."), params={"value": line[:40]}
                ) from None
        if len(refs) > 10000:
            raise forms.ValidationError(_("At most 10,000 references at once."))
        return refs
