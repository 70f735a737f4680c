import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from subjects.models import DataCategory, DataSubject, ProcessingPurpose, SubjectGroup
from transfers.models import (
    AbroadRoute,
    Art6Ground,
    IncidentalGround,
    Recipient,
    RecipientKind,
    SafeguardType,
    TransferBasis,
)
from transfers.services import ART5_GROUNDS


def _select(choices, **kwargs):
    return forms.ChoiceField(
        choices=[("", "—"), *choices], widget=forms.Select(attrs={"class": "form-select"}), **kwargs
    )


def _date(label):
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )


class RecipientForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=200, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    kind = _select(RecipientKind.choices, label=_("Type"))
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        help_text=_("Two-letter ISO code; Türkiye is TR. Any other country is abroad."),
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    route = _select(AbroadRoute.choices, label=_("Art. 9 route (abroad only)"), required=False)
    adequacy_reference = forms.CharField(
        label=_("Adequacy decision"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    safeguard_type = _select(SafeguardType.choices, label=_("Safeguard"), required=False)
    contract_signed_on = _date(_("Standard contract signed on"))
    contract_notified_on = _date(_("Standard contract notified to the Authority on"))
    incidental_ground = _select(
        IncidentalGround.choices, label=_("Incidental-transfer ground"), required=False
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 2}),
    )

    @classmethod
    def of(cls, recipient: Recipient, data=None):
        initial = {field: getattr(recipient, field) for field in cls.base_fields}
        return cls(data, initial=initial)


GROUND_CHOICES = [
    (_("Art. 5(2) grounds, for Art. 8(2)(a)"), [(g.value, g.label) for g in ART5_GROUNDS]),
    (_("Art. 6(3) grounds, for Art. 8(2)(b)"), Art6Ground.choices),
]
BASIS_CHOICES = [(value, label) for value, label in TransferBasis.choices if value != "controller"]


class TransferForm(forms.Form):
    recipient = forms.ModelChoiceField(
        label=_("Recipient"),
        queryset=Recipient.objects.filter(is_controller=False),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    categories = forms.ModelMultipleChoiceField(
        label=_("Data categories"),
        queryset=DataCategory.objects.all(),
        widget=forms.SelectMultiple(attrs={"class": "form-select"}),
    )
    subject_refs = forms.CharField(
        label=_("Data subjects (references, one a line)"),
        required=False,
        max_length=200000,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
    )
    query_group = forms.ModelChoiceField(
        label=_("…or every subject of a group"),
        queryset=SubjectGroup.objects.all(),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    query_by_category = forms.BooleanField(
        label=_("…with data of the chosen categories (saved with the transfer)"), required=False
    )
    purpose = forms.ModelChoiceField(
        label=_("Purpose"),
        queryset=ProcessingPurpose.objects.filter(is_active=True),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    legal_basis = _select(BASIS_CHOICES, label=_("Legal basis (Art. 8)"))
    ground = _select(GROUND_CHOICES, label=_("Ground"), required=False)
    informed_at = forms.DateTimeField(
        label=_("Controller informed or approved at"),
        required=False,
        help_text=_("Empty: now (you act for the controller)."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "class": "form-control"}),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 2}),
    )

    def clean_subject_refs(self) -> list[int]:
        refs = self.cleaned_data["subject_refs"].split()
        try:
            uuids = {uuid.UUID(ref) for ref in refs}
        except ValueError:
            raise forms.ValidationError(_("A reference is not valid.")) from None
        found = dict(DataSubject.objects.filter(uuid__in=uuids).values_list("uuid", "id"))
        if len(found) != len(uuids):
            raise forms.ValidationError(_("Some references are not in the register."))
        return sorted(found.values())

    def clean(self):
        data = super().clean()
        if (
            not data.get("subject_refs")
            and not data.get("query_group")
            and not (data.get("query_by_category"))
            and "subject_refs" not in self.errors
        ):
            self.add_error(
                "subject_refs", _("List the subjects, or choose a group or category query.")
            )
        return data

    def subject_query(self) -> dict | None:
        data = self.cleaned_data
        if data.get("subject_refs"):
            return None
        query = {}
        if data.get("query_group"):
            query["group"] = data["query_group"].pk
        if data.get("query_by_category"):
            query["category_ids"] = [c.pk for c in data["categories"]]
        return query or None


class TransferFilterForm(forms.Form):
    recipient = forms.ModelChoiceField(
        label=_("Recipient"),
        queryset=Recipient.objects.all(),
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    where = forms.ChoiceField(
        label=_("Where"),
        required=False,
        choices=[("", _("At home and abroad")), ("home", _("At home")), ("abroad", _("Abroad"))],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    legal_basis = forms.ChoiceField(
        label=_("Legal basis"),
        required=False,
        choices=[("", "—"), *TransferBasis.choices],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    since = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
    )
    until = forms.DateField(
        label=_("Until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
    )
