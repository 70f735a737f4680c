"""Staff pages of the answer letter: composing, the rendered PDF, release; the templates and
the letterhead of the controller."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import ANY_ROLE, role_required
from accounts.models import Role
from config.errors import PortalError
from requests import letters
from requests.forms_rights import ComposeForm, LetterheadForm, LetterTemplateForm
from requests.models import AnswerLetter, Application, LetterTemplate, Outcome, RecipientNotice
from requests.views.rights import finished_refresh


def _application(pk: int) -> Application:
    return get_object_or_404(Application, pk=pk)


def _letter(pk: int) -> AnswerLetter:
    return get_object_or_404(AnswerLetter.objects.select_related("application"), pk=pk)


@role_required(*ANY_ROLE)
def compose_view(request, pk: int):
    """GET ?outcome=…: the draft from the template; POST: queue the letter for rendering."""
    application = _application(pk)
    if request.method == "POST":
        form = ComposeForm(request.POST)
        if form.is_valid():
            try:
                letters.letter_compose(application, actor=request.user, request=request,
                                       **form.cleaned_data)  # fmt: skip
            except PortalError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            else:
                messages.success(request, _("The letter is being rendered."))
                return redirect("requests:rights", application.pk)
        status = 400
    else:
        outcome = request.GET.get("outcome", Outcome.ACCEPTED)
        if outcome not in Outcome.values:
            outcome = Outcome.ACCEPTED
        try:
            body = letters.letter_draft(
                application, outcome=outcome, actor=request.user, request=request
            )
        except PortalError as exc:
            messages.error(request, str(exc.message))
            return redirect("requests:rights", application.pk)
        form = ComposeForm(initial={"outcome": outcome, "body": body})
        status = 200
    return render(
        request,
        "requests/rights/compose.html",
        {"application": application, "form": form, "outcomes": Outcome.choices,
         "dates": letters.complaint_dates(application)},
        status=status,
    )  # fmt: skip


@role_required(*ANY_ROLE)
def letter_status_view(request, pk: int):
    letter = _letter(pk)
    response = render(request, "requests/rights/fragment_letter_status.html", {"letter": letter})
    return finished_refresh(request, response, letter.status)


@role_required(*ANY_ROLE)
def letter_pdf_view(request, pk: int):
    letter = _letter(pk)
    if not letter.path:
        return redirect("requests:rights", letter.application_id)
    try:
        data = letters.letter_pdf(letter, actor=request.user, request=request)
    except PortalError as exc:
        messages.error(request, str(exc.message))
        return redirect("requests:rights", letter.application_id)
    response = HttpResponse(data, content_type="application/pdf")
    name = f"{letter.application.reference}-cevap-{letter.pk}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@role_required(*ANY_ROLE)
def letter_retry_view(request, pk: int):
    letter = _letter(pk)
    try:
        letters.letter_retry(letter, request.user, request=request)
    except PortalError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The letter is queued again."))
    return redirect("requests:rights", letter.application_id)


@require_POST
@role_required(*ANY_ROLE)
def letter_release_view(request, pk: int):
    letter = _letter(pk)
    try:
        letters.letter_release(letter, actor=request.user, request=request)
    except PortalError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request, _("The answer is released; the applicant is told by e-mail that it is ready.")
        )
    return redirect("requests:rights", letter.application_id)


@role_required(*ANY_ROLE)
def templates_view(request):
    """The letter templates and the letterhead; controller admins may change them."""
    can_edit = request.user.role == Role.CONTROLLER_ADMIN
    template_forms = [
        (template, LetterTemplateForm(instance=template, prefix=template.kind))
        for template in letters.templates_all()
    ]
    letterhead_form = LetterheadForm(instance=letters.letterhead_get())
    status = 200
    if request.method == "POST":
        if not can_edit:
            messages.error(request, str(letters.ONLY_ADMIN))
            return redirect("requests:letter_templates")
        kind = request.POST.get("kind", "")
        try:
            if kind == "letterhead":
                letterhead_form = LetterheadForm(request.POST, instance=letters.letterhead_get())
                if letterhead_form.is_valid():
                    letters.letterhead_save(actor=request.user, request=request,
                                            **letterhead_form.cleaned_data)  # fmt: skip
                    messages.success(request, _("The letterhead is saved."))
                    return redirect("requests:letter_templates")
            elif kind in LetterTemplate.Kind.values:
                template = letters.template_get(kind)
                form = LetterTemplateForm(request.POST, instance=template, prefix=kind)
                template_forms = [
                    (row, form if row.kind == kind else row_form)
                    for row, row_form in template_forms
                ]
                if form.is_valid():
                    letters.template_save(kind=kind, actor=request.user, request=request,
                                          **form.cleaned_data)  # fmt: skip
                    messages.success(request, _("The template is saved."))
                    return redirect("requests:letter_templates")
        except PortalError as exc:
            messages.error(request, str(exc.message))
        status = 400
    return render(
        request,
        "requests/rights/templates.html",
        {"template_forms": template_forms, "letterhead_form": letterhead_form,
         "can_edit": can_edit, "placeholders": letters.PLACEHOLDERS},
        status=status,
    )  # fmt: skip


@role_required(*ANY_ROLE)
def notice_pdf_view(request, pk: int):
    notice = get_object_or_404(
        RecipientNotice.objects.select_related("application", "recipient"), pk=pk
    )
    try:
        data = letters.notice_pdf(notice, actor=request.user, request=request)
    except PortalError as exc:
        messages.error(request, str(exc.message))
        return redirect("requests:rights", notice.application_id)
    response = HttpResponse(data, content_type="application/pdf")
    name = f"{notice.application.reference}-bildirim-{notice.pk}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
