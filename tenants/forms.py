from django import forms
from django.utils.translation import gettext_lazy as _

from tenants.models import Tenant, UndertakingVersion


class ProvisionForm(forms.ModelForm):
    """A new data controller and its first admin (the platform admin's provisioning page)."""

    admin_username = forms.CharField(label=_("First admin's user name"), max_length=150)
    admin_email = forms.EmailField(label=_("First admin's e-mail"))
    admin_first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    admin_last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)

    class Meta:
        model = Tenant
        fields = [
            "slug",
            "legal_name",
            "vkn",
            "mersis_no",
            "verbis_no",
            "kep_address",
            "contact_name",
            "contact_email",
            "contact_phone",
            "contract_no",
            "contract_start",
            "contract_end",
            "language",
        ]

    def validate_unique(self):
        """Uniqueness is the provisioning service's to judge (schema names too)."""


class UndertakingSignForm(forms.Form):
    """The version the user read, so the signature is for exactly that text."""

    version = forms.ModelChoiceField(
        queryset=UndertakingVersion.objects.all(), widget=forms.HiddenInput
    )
