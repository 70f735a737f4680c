"""Staff pages of explicit consent and privacy notices (C10), and adding items by hand.

Consents are listed on the subject's page without decrypting anything; the evidence file
is opened only from the read page, under the purpose its reader stated. Writers record and
withdraw consents and add items; controller admins publish privacy notices; auditors read.
"""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import ANY_ROLE, WRITERS, role_required
from accounts.models import Role
from config.errors import PortalError
from subjects import selectors, services
from subjects.forms import ConsentForm, ItemAddForm, PrivacyNoticeForm
from subjects.models import Consent, PrivacyNotice
from subjects.validation import RecordErrors
from subjects.views.register import _detail_context, _grant_for


def _errors_onto(form, exc: PortalError, *, fields: dict[str, str] | None = None) -> None:
    """A refused write's messages next to the fields they name (else above the form)."""
    errors = exc.errors if isinstance(exc, RecordErrors) else {exc.field or "": [exc.message]}
    for path, problems in errors.items():
        name = path.split(".")[-1] if path else ""
        name = (fields or {}).get(name, name)
        for problem in problems:
            form.add_error(name if name in form.fields else None, problem)


def _subject_page(request, subject, *, consent_form=None, item_form=None, status=200):
    context = _detail_context(request, subject)
    context["consent_form"] = consent_form or context["consent_form"]
    context["item_form"] = item_form or context["item_form"]
    return render(request, "subjects/detail.html", context, status=status)


@role_required(*WRITERS)
@require_POST
def consent_create_view(request, uuid):
    subject = get_object_or_404(selectors.subject_list(), uuid=uuid)
    form = ConsentForm(request.POST, request.FILES, prefix="consent")
    if form.is_valid():
        data = form.cleaned_data
        upload = data.get("evidence")
        try:
            if upload is not None:
                services.evidence_check(size=upload.size)  # before it is read
            services.consent_record(
                subject=subject,
                raw={
                    "purpose": data["purpose"],
                    "channel": data["channel"],
                    "given_at": data["given_at"],
                    "notice_version": data["notice_version"],
                    "evidence_reference": data["evidence_reference"],
                },
                evidence=upload.read() if upload is not None else None,
                evidence_name=upload.name if upload is not None else "",
                actor=request.user,
                request=request,
            )
        except PortalError as exc:
            _errors_onto(form, exc)
        else:
            messages.success(request, _("The explicit consent is recorded."))
            return redirect("subjects:detail", uuid=subject.uuid)
    return _subject_page(request, subject, consent_form=form, status=400)


@role_required(*WRITERS)
@require_POST
def consent_withdraw_view(request, uuid, consent):
    subject = get_object_or_404(selectors.subject_list(), uuid=uuid)
    row = get_object_or_404(
        Consent.objects.select_related("subject"), uuid=consent, subject=subject
    )
    try:
        row = services.consent_withdraw(consent=row, actor=request.user, request=request)
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _(
                "The consent is withdrawn. Nothing more is processed on it, and the items "
                "that relied on it are due in the next retention run."
            ),
        )
    return redirect("subjects:detail", uuid=subject.uuid)


@role_required(*WRITERS)
@require_POST
def item_add_view(request, uuid):
    subject = get_object_or_404(selectors.subject_list(), uuid=uuid)
    form = ItemAddForm(request.POST, prefix="item")
    if form.is_valid():
        raw = dict(form.cleaned_data)
        try:
            services.items_add(
                subject=subject, raw_items=[raw], actor=request.user, request=request
            )
        except PortalError as exc:
            _errors_onto(form, exc)
        else:
            messages.success(request, _("The item is added."))
            return redirect("subjects:detail", uuid=subject.uuid)
    return _subject_page(request, subject, item_form=form, status=400)


@role_required(*ANY_ROLE)
@require_GET
def consent_evidence_view(request, uuid, grant, consent):
    """A consent's evidence for a reader who stated a purpose (the download is logged)."""
    subject = get_object_or_404(selectors.subject_list(), uuid=uuid)
    data = _grant_for(request, grant, str(subject.uuid))
    row = get_object_or_404(
        Consent.objects.select_related("subject"), uuid=consent, subject=subject
    )
    try:
        name, content = services.consent_evidence_export(
            consent=row, purpose=data["purpose"], actor=request.user, request=request
        )
    except Consent.DoesNotExist as exc:
        raise Http404 from exc
    response = HttpResponse(content, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    return response


@role_required(*ANY_ROLE)
@require_http_methods(["GET", "POST"])
def notice_list_view(request):
    """Every version of the privacy notice; controller admins publish a new one."""
    can_publish = request.user.role == Role.CONTROLLER_ADMIN
    form = PrivacyNoticeForm(request.POST or None) if can_publish else None
    if request.method == "POST":
        if not can_publish:
            return HttpResponse(status=403)
        if form.is_valid():
            try:
                notice = services.notice_publish(
                    title=form.cleaned_data["title"],
                    text=form.cleaned_data["text"],
                    actor=request.user,
                    request=request,
                )
            except PortalError as exc:
                _errors_onto(form, exc)
            else:
                messages.success(
                    request,
                    _("Version %(version)s of the privacy notice is published.")
                    % {"version": notice.version},
                )
                return redirect("subjects:notices")
    if form is not None and request.method == "GET":
        current = selectors.notice_current()
        if current is not None:
            form = PrivacyNoticeForm(initial={"title": current.title, "text": current.text})
    context = {"notices": selectors.notice_list(), "form": form}
    return render(
        request, "subjects/notices.html", context, status=400 if form and form.errors else 200
    )


@role_required(*ANY_ROLE)
@require_GET
def notice_detail_view(request, version):
    notice = get_object_or_404(PrivacyNotice, version=version)
    return render(request, "subjects/notice_detail.html", {"notice": notice})
