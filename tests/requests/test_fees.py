"""Fees of an answer (Communiqué Art. 7): free up to ten pages, 1 TL a page above, plus the
medium; refunded when the application arose from the controller's error."""

import pytest
from django_tenants.utils import tenant_context

from accounts.models import User
from config.errors import PortalError
from requests import fees
from tests.requests.helpers import application


@pytest.mark.parametrize(
    ("pages", "medium_kurus", "total_kurus", "text"),
    [
        (0, 0, 0, "0,00 TL"),
        (10, 0, 0, "0,00 TL"),
        (11, 0, 100, "1,00 TL"),
        (25, 1500, 3000, "30,00 TL"),
        (3, 1250, 1250, "12,50 TL"),
    ],
)
def test_the_fee_is_one_lira_a_page_above_ten_plus_the_medium(
    pages, medium_kurus, total_kurus, text
):
    fee = fees.fee_compute(pages=pages, medium_cost_kurus=medium_kurus)
    assert fee.total_kurus == total_kurus
    assert fee.total_try == text
    assert fee.charged_pages == max(0, pages - 10)


@pytest.mark.django_db
def test_the_fee_is_recorded_and_refunded_when_the_controller_erred(acme):
    with tenant_context(acme):
        officer = User.objects.get(username="colleague")
        app = application()
        app = fees.fee_update(app, pages=25, medium_cost_kurus=1500, actor=officer)
        assert app.fee_kurus == 3000 and fees.fee_due_kurus(app) == 3000
        assert app.fee_refunded_at is None

        app = fees.controller_error_set(app, actor=officer)

        assert app.controller_error and app.fee_refunded_at is not None
        assert app.fee_kurus == 3000  # what was charged stays on record
        assert fees.fee_due_kurus(app) == 0


@pytest.mark.django_db
def test_an_impossible_medium_cost_is_refused_and_nothing_changes(acme):
    with tenant_context(acme):
        app = application()
        for wrong in (-1, 100_001):
            with pytest.raises(PortalError) as refused:
                fees.fee_update(app, medium_cost_kurus=wrong)
            assert refused.value.field == "medium_cost"
        app.refresh_from_db()
        assert app.medium_cost_kurus == 0 and app.fee_kurus == 0
