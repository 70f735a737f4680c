"""The applicant's identity fields, cleaned alike wherever an application is typed in: the
public form and staff registering another channel (Communiqué on Application Procedures,
Art. 5(2): a TCKN for citizens, nationality and a passport or identity number otherwise)."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from subjects.validators import normalize_passport, tckn_is_valid

TCKN_WRONG = _("This is not a valid T.C. identity number: check its 11 digits.")
NATIONALITY_WRONG = _("Enter the 2-letter country code of the nationality, e.g. DE.")
NATIONALITY_TR = _("Citizens of Türkiye apply with their T.C. identity number.")
FOREIGN_ID_WRONG = _("Enter the passport or identity number: 5 to 20 letters and digits.")

_NATIONALITY = re.compile(r"[A-Z]{2}")


class ApplicantIdentityMixin:
    """``clean_tckn``, ``clean_nationality`` and ``clean_foreign_id`` for a form with those
    three fields; an empty field stays empty (the form's ``clean`` says which are needed)."""

    def clean_tckn(self) -> str:
        value = self.cleaned_data["tckn"].strip()
        if value and not tckn_is_valid(value):
            raise ValidationError(TCKN_WRONG)
        return value

    def clean_nationality(self) -> str:
        value = self.cleaned_data["nationality"].strip().upper()
        if value and not _NATIONALITY.fullmatch(value):
            raise ValidationError(NATIONALITY_WRONG)
        if value == "TR":
            raise ValidationError(NATIONALITY_TR)
        return value

    def clean_foreign_id(self) -> str:
        value = self.cleaned_data["foreign_id"].strip().upper().replace(" ", "")
        if value:
            try:
                normalize_passport(f"XX:{value}")
            except ValidationError as exc:
                raise ValidationError(FOREIGN_ID_WRONG) from exc
        return value
