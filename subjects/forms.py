from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from config.kvkk import LegalBasis, SpecialCategory
from subjects.models import (
    ApiToken,
    ConsentChannel,
    DataCategory,
    IdentifierKind,
    PrivacyNotice,
    ProcessingPurpose,
    SubjectGroup,
)


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


class RelationshipEndForm(forms.Form):
    relationship_ended_at = forms.DateTimeField(
        label=_("End of the customer relationship"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_(
            "Retention periods counted from the end of the relationship start then. Leave it "
            "empty while the relationship lasts."
        ),
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


class _InventoryEntryForm(forms.ModelForm):
    """An inventory entry; its code is fixed once created (systems and CSV files name it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = _(
            "Letters, digits, - and _ only. Your systems and CSV files use it; it cannot be "
            "changed later."
        )
        if self.instance.pk:
            self.fields["code"].disabled = True


class SubjectGroupForm(_InventoryEntryForm):
    class Meta:
        model = SubjectGroup
        fields = ["code", "name"]


class DataCategoryForm(_InventoryEntryForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["special_category"].choices = [
            ("", _("No: ordinary personal data")),
            *SpecialCategory.choices,
        ]

    class Meta:
        model = DataCategory
        fields = ["code", "name", "special_category"]
        help_texts = {
            "special_category": _(
                "Only for special categories of personal data (Art. 6): they need explicit "
                "consent or an Art. 6(3) ground."
            )
        }


class ProcessingPurposeForm(_InventoryEntryForm):
    class Meta:
        model = ProcessingPurpose
        fields = ["code", "name", "is_active"]
        help_texts = {"is_active": _("An inactive purpose accepts no new data.")}


_MOMENT_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _purpose_choices() -> list[tuple[str, str]]:
    return [
        (purpose.code, purpose.name)
        for purpose in ProcessingPurpose.objects.filter(is_active=True).order_by("name")
    ]


class ConsentForm(forms.Form):
    """An explicit consent recorded by staff, with its evidence (C10)."""

    purpose = forms.ChoiceField(label=_("Purpose"))
    channel = forms.ChoiceField(label=_("Channel"), choices=ConsentChannel.choices)
    given_at = forms.DateTimeField(label=_("Given at"), widget=_MOMENT_WIDGET)
    notice_version = forms.ChoiceField(label=_("Privacy notice shown"), required=False)
    evidence_reference = forms.CharField(
        label=_("Evidence reference"),
        required=False,
        max_length=200,
        help_text=_("A form number or call recording id, when no file is uploaded."),
    )
    evidence = forms.FileField(
        label=_("Evidence file"),
        required=False,
        help_text=_("The signed form or a screenshot: PDF, PNG or JPEG. Stored encrypted."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].choices = _purpose_choices()
        self.fields["notice_version"].choices = [("", _("(not recorded)"))] + [
            (str(notice.version), str(notice))
            for notice in PrivacyNotice.objects.order_by("-version")
        ]


class ItemAddForm(forms.Form):
    """One personal-data item added by staff: the same checks as the API and CSV."""

    category = forms.ChoiceField(label=_("Category"))
    purpose = forms.ChoiceField(label=_("Purpose"))
    legal_basis = forms.ChoiceField(label=_("Legal basis"), choices=LegalBasis.choices)
    value = forms.CharField(label=_("Value"), max_length=10_000, widget=forms.Textarea({"rows": 2}))
    source_system = forms.CharField(label=_("Source system"), max_length=80, initial="portal")
    collected_at = forms.DateTimeField(label=_("Collected at"), widget=_MOMENT_WIDGET)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [
            (category.code, category.name) for category in DataCategory.objects.order_by("name")
        ]
        self.fields["purpose"].choices = _purpose_choices()


class PrivacyNoticeForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(label=_("Text"), widget=forms.Textarea({"rows": 12}))
