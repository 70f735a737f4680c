"""Forms of the retention pages: they check shapes; the services check the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from config.kvkk import DESTRUCTION_INTERVAL_MAX_MONTHS
from retention.models import LegalHold, RetentionRule, RetentionSettings
from retention.services import RULE_FIELDS
from subjects.models import DataCategory


class DateInput(forms.DateInput):
    input_type = "date"


class RetentionRuleForm(forms.ModelForm):
    confirm = forms.BooleanField(
        label=_("I confirm this period for our processing"),
        required=False,
        help_text=_("Needed only for the controller's own choice; a statute's period is cited."),
    )

    class Meta:
        model = RetentionRule
        fields = list(RULE_FIELDS)
        widgets = {
            "named_date": DateInput(),
            "recipient_groups": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "named_date": _("Only when the period counts from a named date."),
            "legal_reference": _("For a statute: the provision, e.g. 6102 sayılı TTK m. 82."),
            "recipient_groups": _("VERBIS: to whom data of this category is transferred."),
        }

    def _post_clean(self):
        # The model's own constraints are the service's to check, with its messages.
        pass


class RetentionSettingsForm(forms.ModelForm):
    # The form accepts any whole number so that the service states the limit and its article.
    interval_months = forms.IntegerField(
        label=_("periodic destruction every (months)"),
        help_text=_("At most %(max)s months (Destruction Regulation Art. 11(2)).")
        % {"max": DESTRUCTION_INTERVAL_MAX_MONTHS},
    )

    class Meta:
        model = RetentionSettings
        fields = ["interval_months", "auto_execute", "security_measures"]
        widgets = {"security_measures": forms.Textarea(attrs={"rows": 5})}
        help_texts = {
            "auto_execute": _(
                "Otherwise a controller admin approves each dry run with a current code."
            ),
            "security_measures": _(
                "VERBIS: the administrative and technical measures taken (KVKK Art. 12)."
            ),
        }

    def _post_clean(self):
        pass


class LegalHoldForm(forms.Form):
    scope = forms.ChoiceField(label=_("What it holds"), choices=LegalHold.Scope.choices)
    subject_ref = forms.UUIDField(
        label=_("Data subject reference"),
        required=False,
        help_text=_("The subject's reference (uuid) from the register; or look one up below."),
    )
    identifier = forms.CharField(
        label=_("Or an identifier of the subject"),
        max_length=254,
        required=False,
        help_text=_(
            "TCKN, e-mail, phone, customer no. or NAT:PASSPORT; it is posted, never shown."
        ),
    )
    category = forms.ModelChoiceField(
        label=_("Data category"), queryset=DataCategory.objects.none(), required=False
    )
    reference = forms.CharField(
        label=_("Application or litigation reference"), max_length=100, required=False
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none())
    ends_on = forms.DateField(label=_("Ends on"), widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = DataCategory.objects.order_by("name")
        self.fields["owner"].queryset = (
            User.objects.filter(is_active=True).exclude(role="").order_by("username")
        )
        self.fields["owner"].label_from_instance = lambda user: user.get_username()
