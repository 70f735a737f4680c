"""Staff pages of the register: search without decrypting, read only with a stated purpose.

Identifiers never travel in URLs: the search form is posted. A read follows
POST → redirect → GET: the purpose is posted once and logged, the server keeps
a short-lived read grant, and the read page shows the data for that grant, so a
reload shows it again without a second read entry. Download links carry only
the schema, the user, the attachment's uuid and the grant; the purpose stays
on the server.
"""

import secrets
import time

from django.contrib import messages
from django.core import signing
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import ANY_ROLE, WRITERS, role_required, user_has_role
from config.errors import PortalError
from subjects import selectors, services
from subjects.forms import (
    ConsentForm,
    ItemAddForm,
    ReadPurposeForm,
    RelationshipEndForm,
    SubjectSearchForm,
)
from subjects.models import Interaction

PAGE_SIZE = 50
# How long a stated purpose lets its reader see the data again and download attachments.
READ_GRANT_SECONDS = 10 * 60
# How long a download link works once the page that holds it is shown.
DOWNLOAD_LINK_SECONDS = 5 * 60
_DOWNLOAD_SALT = "subjects.attachment"


@role_required(*ANY_ROLE)
@require_http_methods(["GET", "POST"])
def subject_list_view(request):
    form = SubjectSearchForm(request.POST or None)
    subjects, matches = selectors.subject_list(), None
    if request.method == "POST" and form.is_valid() and form.cleaned_data["q"]:
        matches = selectors.subject_lookup(
            value=form.cleaned_data["q"],
            kind=form.cleaned_data["kind"] or None,
            actor=request.user,
            request=request,
        )
    page = (
        None
        if matches is not None
        else Paginator(subjects, PAGE_SIZE).get_page(request.GET.get("page"))
    )
    context = {"form": form, "page": page, "matches": matches}
    return render(request, "subjects/index.html", context)


def _grant_key(grant: str) -> str:
    # The cache's key function adds the schema: a grant exists only on its controller's host.
    return f"subjects-read-grant:{grant}"


@role_required(*ANY_ROLE)
@require_http_methods(["GET", "POST"])
def subject_detail_view(request, uuid):
    subject = get_object_or_404(selectors.subject_list(), uuid=uuid)
    form = ReadPurposeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and not subject.is_shredded:
        purpose = form.cleaned_data["purpose"]
        selectors.subject_read(
            subject=subject, purpose=purpose, actor=request.user, request=request
        )
        grant = secrets.token_hex(16)
        cache.set(
            _grant_key(grant),
            {
                "user": request.user.pk,
                "subject": str(subject.uuid),
                "purpose": purpose,
                "expires": time.time() + READ_GRANT_SECONDS,
            },
            timeout=READ_GRANT_SECONDS,
        )
        return redirect("subjects:read", uuid=subject.uuid, grant=grant)
    return _detail(request, subject, form)


def _detail_context(request, subject, form=None, end_form=None) -> dict:
    writer = user_has_role(request.user, WRITERS) and not subject.is_shredded
    if end_form is None and writer:
        end_form = RelationshipEndForm(
            initial={"relationship_ended_at": subject.relationship_ended_at}, prefix="end"
        )
    return {
        "subject": subject,
        "form": form or ReadPurposeForm(),
        "end_form": end_form,
        "consents": selectors.subject_consents(subject=subject),
        "consent_form": ConsentForm(prefix="consent") if writer else None,
        "item_form": ItemAddForm(prefix="item") if writer else None,
    }


def _detail(request, subject, form, end_form=None):
    context = _detail_context(request, subject, form, end_form)
    return render(request, "subjects/detail.html", context)


@role_required(*WRITERS)
@require_http_methods(["POST"])
def relationship_end_view(request, uuid):
    """Set or clear when the customer relationship ended (retention may count from it)."""
    subject = get_object_or_404(selectors.subject_list(), uuid=uuid)
    end_form = RelationshipEndForm(request.POST, prefix="end")
    if end_form.is_valid():
        try:
            services.subject_update(
                subject=subject,
                relationship_ended_at=end_form.cleaned_data["relationship_ended_at"],
                actor=request.user,
                request=request,
            )
        except PortalError as exc:
            end_form.add_error("relationship_ended_at", exc.message)
        else:
            messages.success(request, _("The end of the customer relationship is saved."))
            return redirect("subjects:detail", uuid=subject.uuid)
    return _detail(request, subject, ReadPurposeForm(), end_form)


def _grant_for(request, grant: str, subject_uuid: str) -> dict:
    """The reader's own, unexpired grant for this subject; anything else is not found."""
    data = cache.get(_grant_key(grant))
    if (
        not data
        or data["user"] != request.user.pk
        or data["subject"] != subject_uuid
        or data["expires"] < time.time()
    ):
        raise Http404
    return data


@role_required(*ANY_ROLE)
@require_GET
def subject_read_view(request, uuid, grant):
    subject = get_object_or_404(selectors.subject_list(), uuid=uuid)
    data = _grant_for(request, grant, str(subject.uuid))
    if subject.is_shredded:
        return redirect("subjects:detail", uuid=subject.uuid)
    record = selectors.subject_decrypt(subject)  # the read was logged when it was asked for
    interactions = [
        (row, _download_link(request, row.uuid, grant) if row.attachment_name else "")
        for row in record.interactions
    ]
    context = {
        "subject": subject,
        "record": record,
        "purpose": data["purpose"],
        "grant": grant,
        "interactions": interactions,
        "grant_minutes": READ_GRANT_SECONDS // 60,
    }
    return render(request, "subjects/read.html", context)


def _download_link(request, interaction_uuid, grant: str) -> str:
    token = signing.dumps(
        {"s": connection.schema_name, "u": request.user.pk, "i": str(interaction_uuid), "g": grant},
        salt=_DOWNLOAD_SALT,
    )
    return reverse("subjects:attachment", args=[token])


@role_required(*ANY_ROLE)
@require_GET
def attachment_view(request, token):
    """An attachment for the reader who was shown its link, on the host it was made for."""
    try:
        data = signing.loads(token, salt=_DOWNLOAD_SALT, max_age=DOWNLOAD_LINK_SECONDS)
    except signing.BadSignature as exc:
        raise Http404 from exc
    if data.get("s") != connection.schema_name or data.get("u") != request.user.pk:
        raise Http404
    interaction = get_object_or_404(
        Interaction.objects.select_related("subject"), uuid=data.get("i")
    )
    grant = _grant_for(request, str(data.get("g")), str(interaction.subject.uuid))
    try:
        name, content = selectors.attachment_export(
            interaction=interaction, purpose=grant["purpose"], actor=request.user, request=request
        )
    except Interaction.DoesNotExist as exc:
        raise Http404 from exc
    response = HttpResponse(content, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    return response
