"""Identifiers of a data controller (veri sorumlusu): VKN, MERSIS no., KEP address."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from subjects.validators import ascii_digits

VKN_INVALID = _("Enter a valid 10-digit tax number (VKN).")
MERSIS_INVALID = _("Enter a valid 16-digit MERSIS number.")
KEP_INVALID = _("Enter a registered e-mail (KEP) address such as name@hs01.kep.tr.")

_KEP_PATTERN = re.compile(r"[A-Za-z0-9._%+-]+@hs[0-9]{2}\.kep\.tr")


def vkn_is_valid(value: str) -> bool:
    """The Revenue Administration's checksum for 10-digit tax numbers."""
    if len(value) != 10 or not ascii_digits(value):
        return False
    digits = [int(char) for char in value]
    total = 0
    for index in range(9):
        shifted = (digits[index] + 9 - index) % 10
        weighted = (shifted * 2 ** (9 - index)) % 9
        if shifted != 0 and weighted == 0:
            weighted = 9
        total += weighted
    return (10 - total % 10) % 10 == digits[9]


def validate_vkn(value: str) -> None:
    if not vkn_is_valid(value):
        raise ValidationError(VKN_INVALID, code="invalid_vkn")


def validate_mersis(value: str) -> None:
    if len(value) != 16 or not ascii_digits(value):
        raise ValidationError(MERSIS_INVALID, code="invalid_mersis")


def validate_kep_address(value: str) -> None:
    if not _KEP_PATTERN.fullmatch(value):
        raise ValidationError(KEP_INVALID, code="invalid_kep")
