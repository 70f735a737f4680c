"""Fees of an answer (Communiqué on Application Procedures, Art. 7).

Free as a rule; one lira per page above ten pages of answer; the cost of the medium when
the answer goes on a CD or USB stick. Refunded when the application arose from the
controller's error. Amounts are kept in kuruş.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.errors import PortalError
from config.kvkk import APPLICATION_FEE_PER_PAGE_TRY, APPLICATION_FREE_PAGES
from requests.models import Application
from requests.services import log, role_check

KURUS_PER_TRY = 100
# A medium costs a few lira; anything above this is a typing error.
MEDIUM_COST_MAX_KURUS = 100_000

MEDIUM_COST_INVALID = _("Enter the medium's cost as an amount between 0 and 1000 TL.")


@dataclass(frozen=True)
class Fee:
    pages: int
    charged_pages: int
    pages_kurus: int
    medium_kurus: int
    total_kurus: int

    @property
    def total_try(self) -> str:
        return try_text(self.total_kurus)


def try_text(kurus: int) -> str:
    """An amount in lira as written in Turkish ("30,00 TL")."""
    return f"{kurus // KURUS_PER_TRY},{kurus % KURUS_PER_TRY:02d} TL"


def fee_compute(*, pages: int, medium_cost_kurus: int = 0) -> Fee:
    """The fee of an answer of ``pages`` pages, plus the medium's cost."""
    charged = max(0, pages - APPLICATION_FREE_PAGES)
    pages_kurus = charged * APPLICATION_FEE_PER_PAGE_TRY * KURUS_PER_TRY
    return Fee(
        pages=pages,
        charged_pages=charged,
        pages_kurus=pages_kurus,
        medium_kurus=medium_cost_kurus,
        total_kurus=pages_kurus + medium_cost_kurus,
    )


def fee_of(application: Application) -> Fee:
    return fee_compute(
        pages=application.answer_pages, medium_cost_kurus=application.medium_cost_kurus
    )


@transaction.atomic
def fee_update(
    application: Application,
    *,
    pages: int | None = None,
    medium_cost_kurus: int | None = None,
    actor=None,
    request=None,
) -> Application:
    """Record the answer's pages and/or the medium's cost, and the fee they make."""
    if medium_cost_kurus is not None and not (0 <= medium_cost_kurus <= MEDIUM_COST_MAX_KURUS):
        raise PortalError(MEDIUM_COST_INVALID, field="medium_cost")
    application = Application.objects.select_for_update().get(pk=application.pk)
    if pages is not None:
        application.answer_pages = pages
    if medium_cost_kurus is not None:
        application.medium_cost_kurus = medium_cost_kurus
    application.fee_kurus = fee_of(application).total_kurus
    application.save(update_fields=["answer_pages", "medium_cost_kurus", "fee_kurus", "updated_at"])
    log(
        application,
        event="fee",
        actor=actor,
        request=request,
        pages=application.answer_pages,
        medium_kurus=application.medium_cost_kurus,
        fee_kurus=application.fee_kurus,
    )
    return application


@transaction.atomic
def controller_error_set(application: Application, *, actor, request=None) -> Application:
    """The application arose from the controller's error: any fee is refunded (Art. 7(3))."""
    role_check(actor)
    application = Application.objects.select_for_update().get(pk=application.pk)
    application.controller_error = True
    fields = ["controller_error", "updated_at"]
    if application.fee_refunded_at is None:
        application.fee_refunded_at = timezone.now()
        fields.append("fee_refunded_at")
    application.save(update_fields=fields)
    log(
        application,
        event="controller_error",
        actor=actor,
        request=request,
        refunded_kurus=application.fee_kurus,
    )
    return application


def fee_due_kurus(application: Application) -> int:
    """What the applicant owes: nothing once refunded."""
    return 0 if application.fee_refunded_at else application.fee_kurus
