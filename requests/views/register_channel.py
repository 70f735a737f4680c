"""Staff register an application that came by letter, KEP, e-signature, mobile signature or
an e-mail address the subject registered before, with its scanned document (Communiqué on
Application Procedures, Art. 5)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from accounts.access import WRITERS, role_required
from config.errors import PortalError
from requests import services
from requests.forms import ChannelApplicationForm
from requests.models import ApplicationDocument

REGISTERED = _("The application %(reference)s is registered. Its 30 days run from receipt.")


@role_required(*WRITERS)
@require_http_methods(["GET", "POST"])
def register_channel_view(request):
    form = ChannelApplicationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        name, content, content_type = form.cleaned_data["document"]
        try:
            application = services.application_register(
                channel=form.cleaned_data["channel"],
                received_at=form.cleaned_data["received_at"],
                rights=form.cleaned_data["rights"],
                applicant=form.applicant(),
                identity=form.identity(),
                details=form.cleaned_data["details"],
                on_behalf=form.cleaned_data["on_behalf"],
                documents=[(ApplicationDocument.Kind.SCAN, name, content, content_type)],
                actor=request.user,
                request=request,
            )
        except PortalError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, REGISTERED % {"reference": application.reference})
            return redirect("requests:detail", reference=application.reference)
    status = 400 if form.is_bound else 200
    return render(request, "requests/work/register.html", {"form": form}, status=status)
