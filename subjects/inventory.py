"""The starter inventory offered to new controllers (VERBIS: groups, categories, purposes)."""

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from subjects.models import DataCategory, ProcessingPurpose, SubjectGroup

# A typical customer-service / CRM processor's inventory, offered to new controllers
# and used by the demo; controllers edit it to match their VERBIS entry.
STARTER_GROUPS = [
    ("customer", _("Customers")),
    ("prospect", _("Prospects")),
    ("employee", _("Employees")),
    ("supplier_contact", _("Supplier contacts")),
    ("visitor", _("Visitors")),
]
STARTER_CATEGORIES = [
    ("identity", _("Identity"), ""),
    ("contact", _("Contact"), ""),
    ("customer_transaction", _("Customer transaction"), ""),
    ("marketing", _("Marketing"), ""),
    ("location", _("Location"), ""),
    ("health", _("Health"), "health"),
]
STARTER_PURPOSES = [
    ("customer_service", _("Conducting customer-service activities")),
    ("contract", _("Performing contracts with customers")),
    ("complaints", _("Handling requests and complaints")),
    ("marketing", _("Marketing of products and services")),
]


@transaction.atomic
def inventory_starter_create(*, language: str = "tr") -> None:
    """Create the starter inventory where its codes are missing (idempotent), named in ``language``."""
    with translation.override(language):
        _inventory_starter_create()


def _inventory_starter_create() -> None:
    for code, name in STARTER_GROUPS:
        SubjectGroup.objects.get_or_create(code=code, defaults={"name": str(name)})
    for code, name, special in STARTER_CATEGORIES:
        DataCategory.objects.get_or_create(
            code=code, defaults={"name": str(name), "special_category": special}
        )
    for code, name in STARTER_PURPOSES:
        ProcessingPurpose.objects.get_or_create(code=code, defaults={"name": str(name)})
