"""The inventory page (envanter): subject groups, data categories and processing purposes.

Every member of the controller's staff may read it; controller admins add and edit
entries, through the services in subjects.inventory. Each kind of entry is a Section:
a later kind (retention rules, say) is one more Section and one more URL pair.
"""

from collections.abc import Callable
from copy import copy
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from accounts.access import ANY_ROLE, role_required
from accounts.models import Role
from config.errors import PortalError
from subjects import inventory
from subjects.forms import DataCategoryForm, ProcessingPurposeForm, SubjectGroupForm
from subjects.models import DataCategory, ProcessingPurpose, SubjectGroup

HISTORY_ROWS = 50


@dataclass(frozen=True)
class Column:
    label: Any
    value: Callable[[Model], Any]


@dataclass(frozen=True)
class Section:
    key: str
    title: Any
    intro: Any
    model: type[Model]
    form: type[forms.ModelForm]
    columns: tuple[Column, ...]
    create: Callable[..., Model]
    update: Callable[..., Model]

    @property
    def new_url_name(self) -> str:
        return f"subjects:inventory_{self.key}_new"

    @property
    def entry_url_name(self) -> str:
        return f"subjects:inventory_{self.key}"

    def cells(self, entry: Model) -> list[Any]:
        return [column.value(entry) for column in self.columns]

    def rows(self) -> list[tuple[Model, list[Any]]]:
        return [(entry, self.cells(entry)) for entry in self.model.objects.all()]


def _yes_no(value: bool) -> Any:
    return _("Yes") if value else _("No")


SECTIONS = {
    section.key: section
    for section in (
        Section(
            key="groups",
            title=_("Subject groups"),
            intro=_("Whose data is held: customers, employees, visitors…"),
            model=SubjectGroup,
            form=SubjectGroupForm,
            columns=(),
            create=inventory.subject_group_create,
            update=lambda entry, **data: inventory.subject_group_update(group=entry, **data),
        ),
        Section(
            key="categories",
            title=_("Data categories"),
            intro=_(
                "What kinds of personal data are held. Special categories (Art. 6) need explicit "
                "consent or an Art. 6(3) ground."
            ),
            model=DataCategory,
            form=DataCategoryForm,
            columns=(
                Column(
                    _("Special category"),
                    lambda entry: entry.get_special_category_display() or _("No"),
                ),
            ),
            create=inventory.data_category_create,
            update=lambda entry, **data: inventory.data_category_update(category=entry, **data),
        ),
        Section(
            key="purposes",
            title=_("Processing purposes"),
            intro=_("What data is processed for. Data for an undeclared purpose is refused."),
            model=ProcessingPurpose,
            form=ProcessingPurposeForm,
            columns=(Column(_("Active"), lambda entry: _yes_no(entry.is_active)),),
            create=inventory.processing_purpose_create,
            update=lambda entry, **data: inventory.processing_purpose_update(purpose=entry, **data),
        ),
    )
}


def _is_admin(request) -> bool:
    return request.user.role == Role.CONTROLLER_ADMIN


@role_required(*ANY_ROLE)
def inventory_view(request):
    context = {"sections": SECTIONS.values(), "can_edit": _is_admin(request)}
    return render(request, "subjects/inventory/index.html", context)


def _saved(request, form, save: Callable[..., Model], data: dict) -> Model | None:
    try:
        return save(**data, actor=request.user, request=request)
    except PortalError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return None


@role_required(Role.CONTROLLER_ADMIN)
@require_http_methods(["GET", "POST"])
def entry_create_view(request, section: str):
    part = SECTIONS[section]
    form = part.form(request.POST or None)
    valid = request.method == "POST" and form.is_valid()
    if valid and _saved(request, form, part.create, form.cleaned_data):
        return redirect("subjects:inventory")
    return render(request, "subjects/inventory/entry.html", {"section": part, "form": form})


@role_required(*ANY_ROLE)
@require_http_methods(["GET", "POST"])
def entry_view(request, section: str, code: str):
    """An entry with its history; controller admins edit it here, everyone else reads."""
    part = SECTIONS[section]
    entry = get_object_or_404(part.model, code=code)
    if request.method == "POST" and not _is_admin(request):
        raise PermissionDenied
    # the form gets a copy: validating it writes the posted values onto its instance
    form = part.form(request.POST or None, instance=copy(entry)) if _is_admin(request) else None
    if form is not None and request.method == "POST" and form.is_valid():
        data = {name: value for name, value in form.cleaned_data.items() if name != "code"}
        if _saved(request, form, lambda **kw: part.update(entry, **kw), data):
            return redirect("subjects:inventory")
    history = entry.history.select_related("history_user").order_by("-history_date")
    context = {
        "section": part,
        "entry": entry,
        "details": list(zip((c.label for c in part.columns), part.cells(entry), strict=True)),
        "form": form,
        "history": [(row, part.cells(row)) for row in history[:HISTORY_ROWS]],
    }
    return render(request, "subjects/inventory/entry.html", context)
