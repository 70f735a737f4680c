"""Art. 9(5): a standard contract is notified within five Turkish business days of signing,
counted with the holidays package across weekends, religious holidays and year ends."""

from datetime import date

import pytest

from transfers.business_days import (
    is_business_day,
    standard_contract_notification_deadline,
    standard_contract_notification_late,
)


@pytest.mark.parametrize(
    ("signed", "deadline"),
    [
        # Friday: the weekend does not count.
        (date(2026, 12, 4), date(2026, 12, 11)),
        # Just before Kurban Bayramı 2026 (27–30 May); the arife, 26 May, is a business day.
        (date(2026, 5, 22), date(2026, 6, 3)),
        # Across 19 May (a Tuesday holiday).
        (date(2026, 5, 15), date(2026, 5, 25)),
        # Just before Ramazan Bayramı 2026 (20–22 March); arife 19 March counts.
        (date(2026, 3, 17), date(2026, 3, 25)),
        # Across the year end: 1 January 2027 is a Friday holiday.
        (date(2026, 12, 30), date(2027, 1, 7)),
        # Kurban Bayramı 2027 (16–19 May, with 19 May on the last day).
        (date(2027, 5, 14), date(2027, 5, 26)),
    ],
)
def test_the_deadline_is_the_fifth_business_day_after_signing(signed, deadline):
    assert standard_contract_notification_deadline(signed) == deadline


def test_an_arife_half_day_is_a_business_day_and_the_bayram_is_not():
    assert is_business_day(date(2026, 5, 26))  # arife of Kurban Bayramı, from 13:00 only
    assert not is_business_day(date(2026, 5, 27))
    assert not is_business_day(date(2026, 10, 29))
    assert not is_business_day(date(2026, 12, 5))  # Saturday


def test_a_notification_on_the_deadline_is_in_time_and_the_day_after_is_late():
    signed = date(2026, 5, 22)
    deadline = date(2026, 6, 3)
    today = date(2026, 7, 1)
    assert not standard_contract_notification_late(
        signed_on=signed, notified_on=deadline, today=today
    )
    assert standard_contract_notification_late(
        signed_on=signed, notified_on=date(2026, 6, 4), today=today
    )


def test_a_missing_notification_is_late_only_once_the_deadline_has_passed():
    signed = date(2026, 12, 30)
    assert not standard_contract_notification_late(
        signed_on=signed, notified_on=None, today=date(2027, 1, 7)
    )
    assert standard_contract_notification_late(
        signed_on=signed, notified_on=None, today=date(2027, 1, 8)
    )
