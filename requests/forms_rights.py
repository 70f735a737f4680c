"""Forms of acting on the rights and of the answer letter (staff side)."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from config.kvkk import ApplicationRight, Art28Exception
from requests.models import Letterhead, LetterTemplate, Outcome


class _Styled:
    """Bootstrap classes on every widget."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs.setdefault("class", css)


class CorrectionForm(_Styled, forms.Form):
    item = forms.TypedChoiceField(label=_("Item to correct"), coerce=int)
    value = forms.CharField(
        label=_("Correct value"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = list(items)


class DeletionForm(_Styled, forms.Form):
    confirm = forms.BooleanField(
        label=_(
            "I confirm: the applicant's data is destroyed now, except what a legal hold or a "
            "statutory retention period keeps."
        )
    )


class AcknowledgementForm(_Styled, forms.Form):
    acknowledged_on = forms.DateField(
        label=_("Acknowledged on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class ClaimForm(_Styled, forms.Form):
    right = forms.ChoiceField(
        label=_("Right"),
        choices=[
            (ApplicationRight.OBJECT_AUTOMATED.value, ApplicationRight.OBJECT_AUTOMATED.label),
            (ApplicationRight.COMPENSATION.value, ApplicationRight.COMPENSATION.label),
        ],
    )
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("accepted", _("Accepted")), ("rejected", _("Rejected"))]
    )
    reasons = forms.CharField(
        label=_("Reasons"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class OutcomeDocumentForm(_Styled, forms.Form):
    document = forms.FileField(label=_("Outcome document (PDF, PNG or JPEG)"))


class FeeForm(_Styled, forms.Form):
    medium_cost = forms.DecimalField(
        label=_("Cost of the medium (CD, USB), TL"),
        min_value=Decimal("0"),
        max_value=Decimal("1000"),
        decimal_places=2,
        help_text=_("0 when the answer is given in writing or electronically."),
    )


class RedactionForm(_Styled, forms.Form):
    path = forms.ChoiceField(label=_("Field"))
    find = forms.CharField(
        label=_("Text to black out in it"),
        max_length=1000,
        required=False,
        help_text=_("Leave empty to black out the whole field."),
    )
    replacement = forms.CharField(
        label=_("Replace with"),
        max_length=100,
        required=False,
        help_text=_("Empty: “[karartıldı]”."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("For example: another person's name in a free-text interaction."),
    )

    def __init__(self, *args, paths=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["path"].choices = list(paths)


class ComposeForm(_Styled, forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    reasons = forms.CharField(
        label=_("Reasons"),
        required=False,
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Required for a rejection or a partial acceptance; the applicant reads them. "
            "They replace {gerekceler} in the text."
        ),
    )
    art28_exception = forms.ChoiceField(
        label=_("Art. 28(2) exception cited"),
        required=False,
        choices=[("", "—"), *Art28Exception.choices],
    )
    body = forms.CharField(
        label=_("Text of the letter"), max_length=60000, widget=forms.Textarea(attrs={"rows": 18})
    )


class LetterTemplateForm(_Styled, forms.ModelForm):
    class Meta:
        model = LetterTemplate
        fields = ["subject_line", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 10})}


class LetterheadForm(_Styled, forms.ModelForm):
    class Meta:
        model = Letterhead
        fields = ["name", "address", "mersis", "kep", "email", "phone", "signatory"]
        widgets = {"address": forms.Textarea(attrs={"rows": 2})}
