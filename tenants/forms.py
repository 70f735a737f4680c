from django import forms

from tenants.models import UndertakingVersion


class UndertakingSignForm(forms.Form):
    """The version the user read, so the signature is for exactly that text."""

    version = forms.ModelChoiceField(
        queryset=UndertakingVersion.objects.all(), widget=forms.HiddenInput
    )
