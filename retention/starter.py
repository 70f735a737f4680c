"""A Turkish starter set of retention rules (saklama süreleri) a controller adopts and edits.

Each period names its source. Where a statute sets it, the provision is cited; everywhere
else the period is a common practice offered as the controller's own choice, which stays
"to be confirmed" until a controller admin confirms it for their own processing.

Statutory periods, as the law counts them:
- 6102 sayılı Türk Ticaret Kanunu m. 82: commercial books, inventories, balance sheets,
  correspondence and vouchers are kept 10 years (from the end of the calendar year of the
  last entry or of the document).
- 213 sayılı Vergi Usul Kanunu m. 253: books and documents for tax purposes are kept 5 years
  (from the start of the calendar year after the one they relate to).
- Personnel files (4857 sayılı İş Kanunu m. 75 obliges the employer to keep one): kept 10
  years after the employment ends, the general limitation period of 6098 sayılı Türk Borçlar
  Kanunu m. 146 for claims arising from it.
- 5651 sayılı Kanun m. 5: hosting providers keep traffic data for the period its regulation
  sets, no less than 1 and no more than 2 years; the set uses the longest, 2 years. A
  controller that only offers internet access to staff or guests (toplu kullanım sağlayıcı)
  keeps its access logs as that regulation of its own says, and edits the period.

The statutes count from the end of a calendar year, which can be later than the day the data
was collected: a controller whose records are dated at year end keeps the period as it is,
others may add the difference.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from config.kvkk import DestructionMethod, RetentionEvent
from retention.models import PeriodUnit, RetentionRule

STATUTE = RetentionRule.Source.STATUTE
OWN_CHOICE = RetentionRule.Source.CONTROLLER
AUTHORITIES = _("Authorised public institutions and organisations")


@dataclass(frozen=True)
class StarterRule:
    code: str  # the inventory's category code; an existing category keeps its name
    name: Promise  # created in Turkish when the category is missing
    period: int
    unit: str
    event: str
    method: str
    source: str
    legal_reference: str = ""
    special: str = ""
    recipient_groups: Promise | str = ""


STARTER_RULES = (
    StarterRule(
        code="commercial_records",
        name=_("Commercial books and records"),
        period=10,
        unit=PeriodUnit.YEARS,
        event=RetentionEvent.COLLECTED,
        method=DestructionMethod.DESTROY,
        source=STATUTE,
        legal_reference="6102 sayılı Türk Ticaret Kanunu m. 82",
        recipient_groups=AUTHORITIES,
    ),
    StarterRule(
        code="tax_records",
        name=_("Tax records"),
        period=5,
        unit=PeriodUnit.YEARS,
        event=RetentionEvent.COLLECTED,
        method=DestructionMethod.DESTROY,
        source=STATUTE,
        legal_reference="213 sayılı Vergi Usul Kanunu m. 253",
        recipient_groups=AUTHORITIES,
    ),
    StarterRule(
        code="personnel_file",
        name=_("Personnel file"),
        period=10,
        unit=PeriodUnit.YEARS,
        event=RetentionEvent.RELATIONSHIP_ENDED,
        method=DestructionMethod.DESTROY,
        source=STATUTE,
        legal_reference="6098 sayılı Türk Borçlar Kanunu m. 146; 4857 sayılı İş Kanunu m. 75",
        recipient_groups=AUTHORITIES,
    ),
    StarterRule(
        code="traffic_logs",
        name=_("Internet traffic logs"),
        period=2,
        unit=PeriodUnit.YEARS,
        event=RetentionEvent.COLLECTED,
        method=DestructionMethod.DESTROY,
        source=STATUTE,
        legal_reference="5651 sayılı Kanun m. 5",
        recipient_groups=AUTHORITIES,
    ),
    # The controller's own choices, to confirm: no statute sets these periods.
    StarterRule(
        code="identity",
        name=_("Identity"),
        period=10,
        unit=PeriodUnit.YEARS,
        event=RetentionEvent.RELATIONSHIP_ENDED,
        method=DestructionMethod.DESTROY,
        source=OWN_CHOICE,
    ),
    StarterRule(
        code="contact",
        name=_("Contact"),
        period=10,
        unit=PeriodUnit.YEARS,
        event=RetentionEvent.RELATIONSHIP_ENDED,
        method=DestructionMethod.DESTROY,
        source=OWN_CHOICE,
    ),
    StarterRule(
        code="customer_transaction",
        name=_("Customer transaction"),
        period=10,
        unit=PeriodUnit.YEARS,
        event=RetentionEvent.RELATIONSHIP_ENDED,
        method=DestructionMethod.ANONYMISE,
        source=OWN_CHOICE,
    ),
    StarterRule(
        code="marketing",
        name=_("Marketing"),
        period=2,
        unit=PeriodUnit.YEARS,
        event=RetentionEvent.LAST_USED,
        method=DestructionMethod.DESTROY,
        source=OWN_CHOICE,
    ),
    StarterRule(
        code="location",
        name=_("Location"),
        period=1,
        unit=PeriodUnit.YEARS,
        event=RetentionEvent.COLLECTED,
        method=DestructionMethod.DESTROY,
        source=OWN_CHOICE,
    ),
    StarterRule(
        code="cctv",
        name=_("CCTV recordings"),
        period=30,
        unit=PeriodUnit.DAYS,
        event=RetentionEvent.COLLECTED,
        method=DestructionMethod.DESTROY,
        source=OWN_CHOICE,
    ),
    StarterRule(
        code="job_applicant",
        name=_("Job applicant records"),
        period=1,
        unit=PeriodUnit.YEARS,
        event=RetentionEvent.COLLECTED,
        method=DestructionMethod.DESTROY,
        source=OWN_CHOICE,
    ),
    StarterRule(
        code="visitor_records",
        name=_("Visitor records"),
        period=1,
        unit=PeriodUnit.YEARS,
        event=RetentionEvent.COLLECTED,
        method=DestructionMethod.DESTROY,
        source=OWN_CHOICE,
    ),
)
