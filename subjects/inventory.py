"""The controller's inventory (VERBIS: subject groups, data categories, purposes): its starter
set for new controllers, and the services controller admins edit it with.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from audit.models import Action
from audit.services import audit_entry_create
from config.errors import PortalError
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


# --- Editing the inventory ---------------------------------------------------------------
# Controller admins keep the inventory in step with their VERBIS entry. Codes are what
# controller systems and CSV files name, so they never change once created; names, the
# special-category flag and whether a purpose is in use may. Every change is logged, and
# the models' history keeps each earlier version.

SPECIAL_FLAG_IN_USE = _(
    "Data is already held in this category under legal bases chosen for its current kind; "
    "it cannot switch between special and ordinary. Create a new category instead."
)


def _saved(entry: Model, *, actor: Any, request, created: bool, changed: list[str]) -> Model:
    try:
        entry.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise PortalError(messages[0], field=field) from exc
    if isinstance(actor, get_user_model()):
        entry._history_user = actor  # the history names them outside a request too
    entry.save()
    audit_entry_create(
        action=Action.CREATE if created else Action.UPDATE,
        actor=actor,
        target=entry,
        request=request,
        detail={"event": "inventory_changed", "code": entry.code, "fields": changed},
    )
    return entry


def _changes(entry: Model, values: dict[str, Any]) -> list[str]:
    changed = [name for name, value in values.items() if getattr(entry, name) != value]
    for name in changed:
        setattr(entry, name, values[name])
    return changed


def _locked(entry: Model) -> Model:
    return type(entry).objects.select_for_update().get(pk=entry.pk)


@transaction.atomic
def subject_group_create(*, code: str, name: str, actor: Any, request=None) -> SubjectGroup:
    """Declare a group of data subjects (ilgili kişi grubu)."""
    group = SubjectGroup(code=code, name=name)
    return _saved(group, actor=actor, request=request, created=True, changed=["code", "name"])


@transaction.atomic
def subject_group_update(
    *, group: SubjectGroup, name: str, actor: Any, request=None
) -> SubjectGroup:
    group = _locked(group)
    changed = _changes(group, {"name": name})
    return _saved(group, actor=actor, request=request, created=False, changed=changed)


@transaction.atomic
def data_category_create(
    *, code: str, name: str, special_category: str = "", actor: Any, request=None
) -> DataCategory:
    """Declare a data category (veri kategorisi); a special one (Art. 6) names its kind."""
    category = DataCategory(code=code, name=name, special_category=special_category)
    changed = ["code", "name", "special_category"]
    return _saved(category, actor=actor, request=request, created=True, changed=changed)


@transaction.atomic
def data_category_update(
    *, category: DataCategory, name: str, special_category: str, actor: Any, request=None
) -> DataCategory:
    """Rename a category or correct its special kind (Art. 6); special-ness is fixed once in use.

    Items were accepted under the bases their category's kind allows (Art. 5 or Art. 6(3),
    C10): turning an ordinary category special, or back, would leave them on a basis the
    law does not allow for it.
    """
    category = _locked(category)
    if bool(special_category) != category.is_special and category.items.exists():
        raise PortalError(SPECIAL_FLAG_IN_USE, code="in_use", field="special_category")
    changed = _changes(category, {"name": name, "special_category": special_category})
    return _saved(category, actor=actor, request=request, created=False, changed=changed)


@transaction.atomic
def processing_purpose_create(
    *, code: str, name: str, is_active: bool = True, actor: Any, request=None
) -> ProcessingPurpose:
    """Declare a processing purpose (işleme amacı); data for undeclared ones is refused (C1)."""
    purpose = ProcessingPurpose(code=code, name=name, is_active=is_active)
    changed = ["code", "name", "is_active"]
    return _saved(purpose, actor=actor, request=request, created=True, changed=changed)


@transaction.atomic
def processing_purpose_update(
    *, purpose: ProcessingPurpose, name: str, is_active: bool, actor: Any, request=None
) -> ProcessingPurpose:
    """Rename a purpose or take it out of use: an inactive purpose accepts no new data (C1)."""
    purpose = _locked(purpose)
    changed = _changes(purpose, {"name": name, "is_active": is_active})
    return _saved(purpose, actor=actor, request=request, created=False, changed=changed)
