"""Turkish business days (iş günü), for the Art. 9 standard-contract notification.

KVKK Art. 9(5) (as amended by Law No. 7499, 2024): a standard contract is notified to the
Authority (Kişisel Verileri Koruma Kurumu) within five business days of its signing. The
count starts the day after signing; Saturdays, Sundays and the official holidays of Law
No. 2429 are not business days. The holidays come from the maintained ``holidays``
package (``holidays.Turkey``), never from a list written here, so that the moving
religious holidays (Ramazan and Kurban Bayramı) follow the calendar.

Arife (the eve of a religious holiday, and 28 October) is an official holiday only from
13:00 (Law No. 2429 Art. 2: "arife günü saat 13.00'ten itibaren"). Public offices are open
in the morning and the Authority accepts filings that day, so a half day counts as a
whole business day here. ``holidays.Turkey`` lists those half days only under its
``half_day`` category, which this module does not ask for.
"""

import datetime
from functools import lru_cache

import holidays

# Art. 9(5): days the controller has to notify a signed standard contract to the Authority.
STANDARD_CONTRACT_NOTIFICATION_BUSINESS_DAYS = 5


@lru_cache(maxsize=32)
def _turkish_holidays(year: int) -> frozenset[datetime.date]:
    # Only the "public" category: the arife half days are business days (see above).
    return frozenset(holidays.Turkey(years=year))


def is_business_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and day not in _turkish_holidays(day.year)


def business_day_add(start: datetime.date, days: int) -> datetime.date:
    """The ``days``-th business day after ``start`` (``start`` itself is not counted)."""
    day = start
    remaining = days
    while remaining > 0:
        day += datetime.timedelta(days=1)
        if is_business_day(day):
            remaining -= 1
    return day


def standard_contract_notification_deadline(signed_on: datetime.date) -> datetime.date:
    """The last day (Art. 9(5)) on which a standard contract signed on ``signed_on`` may be
    notified to the Authority in time."""
    return business_day_add(signed_on, STANDARD_CONTRACT_NOTIFICATION_BUSINESS_DAYS)


def standard_contract_notification_late(
    *, signed_on: datetime.date, notified_on: datetime.date | None, today: datetime.date
) -> bool:
    """Whether the notification was made after the deadline, or is still missing after it."""
    deadline = standard_contract_notification_deadline(signed_on)
    if notified_on is not None:
        return notified_on > deadline
    return today > deadline
