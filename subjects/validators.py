"""Identifiers of data subjects and how they are normalised before hashing."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from config.kvkk import TCKN_LENGTH

TCKN_INVALID = _("Enter a valid 11-digit T.C. identity number (TCKN).")
PHONE_INVALID = _("Enter a phone number with 10 to 15 digits, e.g. +90 532 123 45 67.")
PASSPORT_INVALID = _(
    "Enter the nationality as a 2-letter country code and a passport number, e.g. DE:C01X00T47."
)
EMAIL_INVALID = _("Enter a valid e-mail address.")
CUSTOMER_NO_INVALID = _("Enter a customer number of 1 to 64 letters, digits or - _ . /")

# Identifiers are ASCII only. str.isdigit() and \d also accept "²" and Arabic-Indic digits:
# int() then fails on the first, and the second would hash one number two ways and store
# the same person twice.
_PASSPORT = re.compile(r"([A-Z]{2}):([A-Z0-9]{5,20})")
_CUSTOMER_NO = re.compile(r"[A-Za-z0-9_./-]{1,64}")
_PHONE_DIGITS = re.compile(r"[0-9]{10,15}")


def ascii_digits(value: str) -> bool:
    """Only the digits 0-9, at least one."""
    return value.isascii() and value.isdigit()


def tckn_is_valid(value: str) -> bool:
    if len(value) != TCKN_LENGTH or not ascii_digits(value) or value[0] == "0":
        return False
    d = [int(char) for char in value]
    tenth = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    return d[9] == tenth and d[10] == sum(d[:10]) % 10


def normalize_tckn(value: str) -> str:
    value = value.strip()
    if not tckn_is_valid(value):
        raise ValidationError(TCKN_INVALID, code="invalid_tckn")
    return value


def normalize_email(value: str) -> str:
    value = value.strip().lower()
    try:
        validate_email(value)
    except ValidationError as exc:
        raise ValidationError(EMAIL_INVALID, code="invalid_email") from exc
    return value


def normalize_phone(value: str) -> str:
    """E.164: a Turkish number written as 0532... or 532... becomes +90532..."""
    digits = re.sub(r"[\s().-]", "", value.strip())
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("00"):
        digits = digits[2:]
    elif digits.startswith("0") and len(digits) == 11:
        digits = "90" + digits[1:]
    elif len(digits) == 10 and digits.startswith("5"):
        digits = "90" + digits
    if not _PHONE_DIGITS.fullmatch(digits):
        raise ValidationError(PHONE_INVALID, code="invalid_phone")
    return "+" + digits


def normalize_passport(value: str) -> str:
    value = value.strip().upper().replace(" ", "")
    if not _PASSPORT.fullmatch(value):
        raise ValidationError(PASSPORT_INVALID, code="invalid_passport")
    return value


def normalize_customer_no(value: str) -> str:
    value = value.strip()
    if not _CUSTOMER_NO.fullmatch(value):
        raise ValidationError(CUSTOMER_NO_INVALID, code="invalid_customer_no")
    return value
