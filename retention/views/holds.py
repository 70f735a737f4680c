"""Legal holds (hukuki saklama): data kept from destruction while a right is established,
exercised or defended. Every member of staff reads them; controller admins create and
release them. A subject is chosen by its reference or by an identifier that is posted and
looked up (the look-up is logged), never by an identifier in a URL.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import ANY_ROLE, role_required
from accounts.models import Role
from config.errors import PortalError
from retention import selectors as retention_selectors
from retention import services
from retention.forms import LegalHoldForm
from retention.models import LegalHold
from subjects import selectors
from subjects.models import DataSubject

NO_SUCH_SUBJECT = gettext_lazy("No data subject of the register has this reference.")
NO_MATCH = gettext_lazy("No data subject of the register has this identifier.")
SEVERAL_MATCH = gettext_lazy(
    "Several data subjects have this identifier; choose one by its reference."
)
SUBJECT_NOT_CHOSEN = gettext_lazy("Give the subject's reference or an identifier.")


def _is_admin(request) -> bool:
    return request.user.role == Role.CONTROLLER_ADMIN


def _subject_chosen(request, form) -> DataSubject | None:
    """The subject the form names by reference or by a posted identifier; errors on the form."""
    reference, identifier = form.cleaned_data["subject_ref"], form.cleaned_data["identifier"]
    if reference:
        subject = selectors.subject_list().filter(uuid=reference).first()
        if subject is None:
            form.add_error("subject_ref", NO_SUCH_SUBJECT)
        return subject
    if identifier:
        matches = selectors.subject_lookup(value=identifier, actor=request.user, request=request)
        subjects = {match.subject.pk: match.subject for match in matches}
        if not subjects:
            form.add_error("identifier", NO_MATCH)
        elif len(subjects) > 1:
            form.add_error("identifier", SEVERAL_MATCH)
        else:
            return next(iter(subjects.values()))
        return None
    form.add_error("subject_ref", SUBJECT_NOT_CHOSEN)
    return None


@role_required(*ANY_ROLE)
@require_http_methods(["GET", "POST"])
def hold_list_view(request):
    if request.method == "POST" and not _is_admin(request):
        raise PermissionDenied
    # a subject's page links here with its reference (a uuid, never an identifier)
    initial = {"owner": request.user.pk}
    if request.GET.get("subject"):
        initial |= {"scope": LegalHold.Scope.SUBJECT, "subject_ref": request.GET["subject"]}
    form = LegalHoldForm(request.POST or None, initial=initial) if _is_admin(request) else None
    if form is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        subject = None
        if data["scope"] == LegalHold.Scope.SUBJECT:
            subject = _subject_chosen(request, form)
        if not form.errors:
            try:
                services.legal_hold_create(
                    scope=data["scope"],
                    subject=subject,
                    category=data["category"],
                    reference=data["reference"],
                    reason=data["reason"],
                    owner=data["owner"],
                    ends_on=data["ends_on"],
                    actor=request.user,
                    request=request,
                )
            except PortalError as exc:
                field = {"subject": "subject_ref"}.get(exc.field, exc.field)
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                messages.success(request, _("The legal hold is in place."))
                return redirect("retention:holds")
    if form is not None and form.data.get("identifier"):
        # an identifier is never shown back, not even in the form
        form.data = form.data.copy()
        form.data["identifier"] = ""
    # in force exactly as the scan sees them
    active = retention_selectors.holds_active().select_related("subject", "category", "owner")
    ended = LegalHold.objects.exclude(pk__in=active.values("pk"))
    context = {
        "form": form,
        "active": active.order_by("ends_on"),
        "ended": ended.select_related("subject", "category", "owner").order_by("-created_at"),
        "can_edit": _is_admin(request),
    }
    return render(request, "retention/holds/index.html", context)


@role_required(Role.CONTROLLER_ADMIN)
@require_POST
def hold_release_view(request, pk: int):
    hold = get_object_or_404(LegalHold, pk=pk)
    try:
        services.legal_hold_release(hold=hold, actor=request.user, request=request)
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The legal hold is released."))
    return redirect("retention:holds")


urlpatterns = [
    path("holds/", hold_list_view, name="holds"),
    path("holds/<int:pk>/release/", hold_release_view, name="hold_release"),
]
