"""CSV import pages: upload, preview with row errors, progress (htmx), report."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import WRITERS, role_required
from config.errors import PortalError
from subjects import csv_import
from subjects.models import CsvImport

PREVIEW_ROWS = 200


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8, comma or semicolon separated, with the header row of the template."),
    )


class ConfirmForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("How to import"), choices=CsvImport.Mode.choices, widget=forms.RadioSelect
    )


def _csv_response(text: str, filename: str) -> HttpResponse:
    # A BOM, so that spreadsheet programs read Turkish letters as UTF-8.
    response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@role_required(*WRITERS)
@require_http_methods(["GET", "POST"])
def upload_view(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > csv_import.MAX_BYTES:
            form.add_error(
                "file", csv_import.TOO_LARGE % {"limit": csv_import.MAX_BYTES // (1024 * 1024)}
            )
        else:
            try:
                job = csv_import.csv_import_preview(
                    file_name=upload.name, data=upload.read(), created_by=request.user
                )
            except PortalError as exc:
                form.add_error("file", exc.message)
            else:
                return redirect("subjects:csv_detail", uuid=job.uuid)
    jobs = CsvImport.objects.select_related("created_by")[:20]
    return render(
        request,
        "subjects/csv_upload.html",
        {"form": form, "jobs": jobs, "columns": csv_import.headers()},
    )


@role_required(*WRITERS)
@require_http_methods(["GET", "POST"])
def detail_view(request, uuid):
    job = get_object_or_404(CsvImport.objects.select_related("created_by"), uuid=uuid)
    form = ConfirmForm(request.POST or None, initial={"mode": CsvImport.Mode.VALID_ONLY})
    if request.method == "POST" and form.is_valid():
        try:
            csv_import.csv_import_confirm(
                job=job, mode=form.cleaned_data["mode"], confirmed_by=request.user
            )
        except PortalError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("subjects:csv_detail", uuid=job.uuid)
    errors = sorted(job.row_errors.items(), key=lambda pair: int(pair[0]))
    context = {
        "job": csv_import.csv_import_progress(job=job),
        "form": form,
        "errors": errors[:PREVIEW_ROWS],
        "more_errors": max(0, len(errors) - PREVIEW_ROWS),
    }
    return render(request, "subjects/csv_detail.html", context)


@role_required(*WRITERS)
def progress_fragment_view(request, uuid):
    job = csv_import.csv_import_progress(job=get_object_or_404(CsvImport, uuid=uuid))
    return render(request, "subjects/fragment_csv_progress.html", {"job": job})


@role_required(*WRITERS)
@require_POST
def cancel_view(request, uuid):
    job = get_object_or_404(CsvImport, uuid=uuid)
    try:
        csv_import.csv_import_cancel(job=job, cancelled_by=request.user)
    except PortalError as exc:
        messages.warning(request, exc.message)
    return redirect("subjects:csv_upload")


@role_required(*WRITERS)
def report_view(request, uuid):
    job = get_object_or_404(
        CsvImport, uuid=uuid, status__in=[CsvImport.Status.DONE, CsvImport.Status.FAILED]
    )
    return _csv_response(job.report, f"import-report-{str(job.uuid)[:8]}.csv")


@role_required(*WRITERS)
def template_view(request):
    return _csv_response(csv_import.template_csv(), "register-import-template.csv")
