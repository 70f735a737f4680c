"""A controller's identifiers: ASCII digits only, whatever a keyboard or a paste gives."""

import pytest
from django.core.exceptions import ValidationError

from tenants.forms import ProvisionForm
from tenants.validators import (
    MERSIS_INVALID,
    VKN_INVALID,
    validate_kep_address,
    validate_mersis,
    validate_vkn,
)


@pytest.mark.parametrize(
    ("validate", "value"),
    [
        (validate_vkn, "001001123⁸"),  # a superscript eight
        (validate_vkn, "٠٠١٠٠١١٢٣٨"),  # 0010011238 in Arabic-Indic digits
        (validate_mersis, "٠١٢٣٤٥٦٧٨٩٠١٢٣٤٥"),
        (validate_mersis, "0123456789012³45"),
        (validate_kep_address, "acme@hs٠١.kep.tr"),
        (validate_kep_address, "acme@hs01.kep.tr\n"),
    ],
)
def test_controller_identifiers_in_other_digits_are_refused(validate, value):
    with pytest.raises(ValidationError):
        validate(value)


def test_the_provisioning_form_shows_a_field_error_for_a_superscript_digit(db):
    form = ProvisionForm(
        {
            "slug": "ustsimge",
            "legal_name": "Üst Simge A.Ş.",
            "vkn": "001001123⁸",
            "mersis_no": "٠١٢٣٤٥٦٧٨٩٠١٢٣٤٥",
            "language": "tr",
            "admin_username": "admin",
            "admin_email": "admin@ustsimge.com.tr",
        }
    )

    assert not form.is_valid()
    assert form.errors["vkn"] == [str(VKN_INVALID)]
    assert form.errors["mersis_no"] == [str(MERSIS_INVALID)]
