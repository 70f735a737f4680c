"""Staff pages of the register: search without decrypting, read only with a stated purpose."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from subjects import selectors
from subjects.forms import ReadPurposeForm, SubjectSearchForm
from tenants.accounts.access import ANY_ROLE, role_required

PAGE_SIZE = 50


@role_required(*ANY_ROLE)
def subject_list_view(request):
    form = SubjectSearchForm(request.GET or None)
    subjects, searched = selectors.subject_list(), False
    if form.is_valid() and form.cleaned_data["q"]:
        searched = True
        found = selectors.subject_lookup(
            value=form.cleaned_data["q"],
            kind=form.cleaned_data["kind"] or None,
            actor=request.user,
            request=request,
        )
        subjects = subjects.filter(pk=found.pk) if found else subjects.none()
    page = Paginator(subjects, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "subjects/index.html", {"form": form, "page": page, "searched": searched}
    )


@role_required(*ANY_ROLE)
@require_http_methods(["GET", "POST"])
def subject_detail_view(request, uuid):
    subject = get_object_or_404(selectors.subject_list(), uuid=uuid)
    form = ReadPurposeForm(request.POST or None)
    record = None
    if request.method == "POST" and form.is_valid():
        record = selectors.subject_read(
            subject=subject,
            purpose=form.cleaned_data["purpose"],
            actor=request.user,
            request=request,
        )
    return render(
        request, "subjects/detail.html", {"subject": subject, "form": form, "record": record}
    )
