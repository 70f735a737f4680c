"""Field-level history (django-simple-history) with the acting person recorded.

Every domain model declares ``history = History(...)``. The acting user is taken
from the request only when it is a real staff user: API calls act as a token
(named in the processing log instead), tasks and commands as the system.
"""

from django.contrib.auth import get_user_model
from simple_history.models import HistoricalRecords


def _staff_user(request=None, **kwargs):
    user = getattr(request, "user", None)
    return user if isinstance(user, get_user_model()) else None


class History(HistoricalRecords):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("get_user", _staff_user)
        super().__init__(*args, **kwargs)
