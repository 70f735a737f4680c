"""Staff pages of the register: search without decrypting, read only with a stated purpose."""

from django.core import signing
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods

from accounts.access import ANY_ROLE, role_required
from subjects import selectors
from subjects.forms import ReadPurposeForm, SubjectSearchForm
from subjects.models import Interaction

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
    record, interactions = None, []
    if request.method == "POST" and form.is_valid():
        purpose = form.cleaned_data["purpose"]
        record = selectors.subject_read(
            subject=subject, purpose=purpose, actor=request.user, request=request
        )
        interactions = [
            (
                row,
                attachment_token(interaction_id=row.id, purpose=purpose)
                if row.attachment_name
                else "",
            )
            for row in record.interactions
        ]
    context = {"subject": subject, "form": form, "record": record, "interactions": interactions}
    return render(request, "subjects/detail.html", context)


# A download link carries the purpose the reader stated, signed and short-lived,
# so the export is logged with it without asking again.
_DOWNLOAD_SALT = "subjects.attachment"
DOWNLOAD_LINK_SECONDS = 300


def attachment_token(*, interaction_id: int, purpose: str) -> str:
    return signing.dumps({"i": interaction_id, "p": purpose}, salt=_DOWNLOAD_SALT)


@role_required(*ANY_ROLE)
def attachment_view(request, token):
    try:
        data = signing.loads(token, salt=_DOWNLOAD_SALT, max_age=DOWNLOAD_LINK_SECONDS)
    except signing.BadSignature as exc:
        raise Http404 from exc
    interaction = get_object_or_404(Interaction.objects.select_related("subject"), pk=data["i"])
    try:
        name, content = selectors.attachment_export(
            interaction=interaction, purpose=data["p"], actor=request.user, request=request
        )
    except Interaction.DoesNotExist as exc:
        raise Http404 from exc
    response = HttpResponse(content, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    return response
