import time

from celery.result import AsyncResult
from django.contrib import admin, messages
from django.db.models import Count
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config.admin import HistoryAdmin, ReadOnlyAdminMixin
from config.celery import app
from config.errors import PortalError
from tenants.contract import certificate_pdf, certificate_signature_valid
from tenants.forms import ProvisionForm
from tenants.models import (
    DestructionCertificate,
    Domain,
    ESignTrustAnchor,
    ProcessorBreach,
    Tenant,
    Undertaking,
    UndertakingVersion,
)
from tenants.processor_breaches import (
    controller_notice_delay,
    controller_notice_late,
    processor_breach_notify,
)
from tenants.services import tenant_set_status, tenant_slug_check

# Provisioning jobs this session queued: {task id: queued at}; only these can be looked at.
_PROVISIONING_SESSION_KEY = "provisioning_jobs"
# Provisioning takes about a second; this long without an answer means no worker is running.
PROVISIONING_WAIT_SECONDS = 120
NO_PROVISIONING_WORKER = _(
    "No provisioning worker answered within two minutes. Start the worker that connects as the "
    "owner role (make run starts one) and provision again."
)


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ["domain", "is_primary"]
    readonly_fields = ["domain", "is_primary"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Tenant)
class TenantAdmin(HistoryAdmin):
    list_display = [
        "legal_name",
        "slug",
        "vkn",
        "status",
        "contract_end",
        "contract_ended_at",
        "created_at",
    ]
    list_filter = ["status", "language"]
    search_fields = ["legal_name", "slug", "vkn", "contract_no"]
    readonly_fields = ["schema_name", "slug", "status", "contract_ended_at", "created_at"]
    inlines = [DomainInline]
    actions = ["suspend", "reactivate", "end_contract"]
    change_list_template = "admin/tenants/tenant/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(schema_name="public")

    def has_add_permission(self, request):
        return False  # controllers are created through "Provision", never as a bare row

    def has_delete_permission(self, request, obj=None):
        return False  # controllers end through the contract-end destruction path

    def get_urls(self):
        urls = super().get_urls()
        custom = [
            path(
                "provision/",
                self.admin_site.admin_view(self.provision_view),
                name="tenants_tenant_provision",
            ),
            path(
                "provision/<uuid:job>/",
                self.admin_site.admin_view(self.provision_status_view),
                name="tenants_tenant_provision_status",
            ),
        ]
        return custom + urls

    def provision_view(self, request):
        """Check the form here, then queue the job for the provisioning worker (owner role)."""
        form = ProvisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                tenant_slug_check(slug=form.cleaned_data["slug"])
            except PortalError as exc:
                form.add_error(exc.field, exc.message)
            else:
                job = app.signature(
                    "tenants.tasks.provision",
                    kwargs={
                        "form_data": {name: request.POST.get(name, "") for name in form.fields},
                        "provisioned_by_id": request.user.pk,
                        "language": translation.get_language(),
                    },
                ).apply_async()
                jobs = request.session.get(_PROVISIONING_SESSION_KEY, {})
                jobs[job.id] = time.time()
                request.session[_PROVISIONING_SESSION_KEY] = jobs
                return redirect("admin:tenants_tenant_provision_status", job=job.id)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.model._meta,
            "title": _("Provision a data controller"),
        }
        return render(request, "admin/tenants/tenant/provision.html", context)

    def provision_status_view(self, request, job):
        """Wait for the provisioning job, then show its one-time invitation link once."""
        jobs = request.session.get(_PROVISIONING_SESSION_KEY, {})
        queued_at = jobs.get(str(job))
        if queued_at is None:
            raise Http404
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Provision a data controller"),
        }
        result = AsyncResult(str(job), app=app)
        if not result.ready():
            if time.time() - queued_at > PROVISIONING_WAIT_SECONDS:
                messages.error(request, NO_PROVISIONING_WORKER)
                return redirect("admin:tenants_tenant_provision")
            return render(request, "admin/tenants/tenant/provision_waiting.html", context)
        outcome = result.get(propagate=False)
        result.forget()  # the invitation link is shown once and kept nowhere
        del jobs[str(job)]
        request.session[_PROVISIONING_SESSION_KEY] = jobs
        if not isinstance(outcome, dict) or "error" in outcome:
            error = outcome.get("error", {}) if isinstance(outcome, dict) else {}
            messages.error(request, error.get("message") or _("Provisioning failed."))
            return redirect("admin:tenants_tenant_provision")
        messages.success(
            request,
            _("%(name)s is ready at %(url)s. Send the first admin this one-time link: %(link)s")
            % {"name": outcome["name"], "url": outcome["url"], "link": outcome["invitation_url"]},
        )
        return redirect(reverse("admin:tenants_tenant_change", args=[outcome["tenant_id"]]))

    def _set_status(self, request, queryset, status):
        for tenant in queryset:
            try:
                tenant_set_status(tenant=tenant, status=status, changed_by=request.user)
            except PortalError as exc:
                self.message_user(request, f"{tenant}: {exc.message}", messages.WARNING)
            else:
                self.message_user(
                    request, f"{tenant}: {Tenant.Status(status).label}", messages.SUCCESS
                )

    @admin.action(description=_("Suspend selected controllers"))
    def suspend(self, request, queryset):
        self._set_status(request, queryset, Tenant.Status.SUSPENDED)

    @admin.action(description=_("Reactivate selected controllers"))
    def reactivate(self, request, queryset):
        self._set_status(request, queryset, Tenant.Status.ACTIVE)

    @admin.action(description=_("Mark contract as ended (read-only, then destroyed)"))
    def end_contract(self, request, queryset):
        self._set_status(request, queryset, Tenant.Status.CONTRACT_ENDED)


@admin.register(DestructionCertificate)
class DestructionCertificateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Signed certificates of destroyed controllers: read, and download as PDF and JSON."""

    list_display = ["legal_name", "vkn", "schema_name", "destroyed_at", "downloads"]
    search_fields = ["legal_name", "vkn", "schema_name"]
    fields = [
        "legal_name",
        "vkn",
        "schema_name",
        "contract_end",
        "contract_ended_at",
        "grace_days",
        "counts",
        "destroyed_at",
        "key_id",
        "signature",
        "signature_check",
        "downloads",
    ]
    readonly_fields = fields

    def get_urls(self):
        custom = [
            path(
                "<int:pk>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="tenants_destructioncertificate_pdf",
            ),
            path(
                "<int:pk>/json/",
                self.admin_site.admin_view(self.json_view),
                name="tenants_destructioncertificate_json",
            ),
        ]
        return custom + super().get_urls()

    @admin.display(description=_("signature check"))
    def signature_check(self, obj: DestructionCertificate) -> str:
        return _("valid") if certificate_signature_valid(obj) else _("INVALID")

    @admin.display(description=_("download"))
    def downloads(self, obj: DestructionCertificate) -> str:
        return format_html(
            '<a href="{}">PDF</a> · <a href="{}">JSON</a>',
            reverse("admin:tenants_destructioncertificate_pdf", args=[obj.pk]),
            reverse("admin:tenants_destructioncertificate_json", args=[obj.pk]),
        )

    def _certificate(self, request, pk) -> DestructionCertificate:
        if not self.has_view_permission(request):
            raise Http404
        return get_object_or_404(DestructionCertificate, pk=pk)

    def pdf_view(self, request, pk):
        certificate = self._certificate(request, pk)
        response = HttpResponse(certificate_pdf(certificate), content_type="application/pdf")
        name = f"imha-sertifikasi-{certificate.schema_name}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def json_view(self, request, pk):
        certificate = self._certificate(request, pk)
        response = JsonResponse(
            {
                "body": certificate.body,
                "signature": certificate.signature,
                "key_id": certificate.key_id,
                "algorithm": "Ed25519",
                "signed_bytes": "JSON of body, keys sorted, separators (',', ':'), UTF-8",
            },
            json_dumps_params={"ensure_ascii": False, "indent": 2},
        )
        name = f"imha-sertifikasi-{certificate.schema_name}.json"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


@admin.register(UndertakingVersion)
class UndertakingVersionAdmin(HistoryAdmin):
    """Wordings of the confidentiality undertaking; a signed wording is evidence and is frozen."""

    list_display = ["version", "title", "effective_from", "signature_count", "created_at"]
    search_fields = ["version", "title"]
    fields = ["version", "title", "text", "effective_from", "created_at"]
    readonly_fields = ["created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(signature_count=Count("signatures"))

    @admin.display(description=_("signatures"), ordering="signature_count")
    def signature_count(self, obj: UndertakingVersion) -> int:
        return obj.signature_count

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.signatures.exists():
            return False  # what people signed must stay exactly what they read
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.signatures.exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Undertaking)
class UndertakingAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    """The staff register: who signed which version, and when. Written only by signing."""

    list_display = ["user", "version", "signed_at", "ip_address"]
    list_filter = ["version", "user__is_active", "signed_at"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    list_select_related = ["user", "version"]
    date_hierarchy = "signed_at"


@admin.register(ProcessorBreach)
class ProcessorBreachAdmin(admin.ModelAdmin):
    """A breach on the processor's side, recorded once; saving it tells each affected
    controller (portal notice and contact e-mail) that has not been told yet."""

    list_display = ["title", "occurred_at", "detected_at", "controllers_notified_at", "delay"]
    filter_horizontal = ["controllers"]
    readonly_fields = ["controllers_notified_at", "delay", "created_at", "told"]
    actions = ["notify_controllers"]

    @admin.display(description=_("processor awareness → controllers notified"))
    def delay(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        delay = controller_notice_delay(obj)
        minutes = int(delay.total_seconds() // 60) if delay is not None else 0
        text = (
            _("not yet notified")
            if delay is None
            else ngettext("%(minutes)d minute", "%(minutes)d minutes", minutes)
            % {"minutes": minutes}
        )
        if controller_notice_late(obj):
            return format_html('<strong class="errornote">{} · {}</strong>', text, _("late"))
        return text

    @admin.display(description=_("controllers told"))
    def told(self, obj):
        rows = obj.notifications.select_related("tenant").order_by("tenant__legal_name")
        return (
            ", ".join(
                f"{row.tenant} ({row.delivered_at:%Y-%m-%d %H:%M})"
                if row.delivered_at
                else str(row.tenant)
                for row in rows
            )
            or "-"
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        queued = processor_breach_notify(breach=form.instance)
        if queued:
            self.message_user(
                request,
                _("Affected controllers are being notified: %(names)s")
                % {"names": ", ".join(queued)},
                messages.SUCCESS,
            )

    @admin.action(description=_("Notify affected controllers"))
    def notify_controllers(self, request, queryset):
        queued = [name for breach in queryset for name in processor_breach_notify(breach=breach)]
        self.message_user(
            request,
            _("Controllers notified now: %(count)d (each controller is notified only once).")
            % {"count": len(queued)},
            messages.SUCCESS,
        )


@admin.register(ESignTrustAnchor)
class ESignTrustAnchorAdmin(HistoryAdmin):
    """Certificate authorities whose e-signatures prove an applicant's identity
    (requests.esign). The fingerprint, subject and expiry are read from the PEM."""

    list_display = ["name", "subject", "not_after", "is_active", "added_at", "added_by"]
    list_filter = ["is_active"]
    search_fields = ["name", "subject", "fingerprint"]
    fields = [
        "name",
        "certificate_pem",
        "is_active",
        "fingerprint",
        "subject",
        "not_after",
        "added_at",
        "added_by",
    ]
    readonly_fields = ["fingerprint", "subject", "not_after", "added_at", "added_by"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # the certificate is what was trusted: replace, never edit it
            return [*self.readonly_fields, "certificate_pem"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.added_by = request.user
        super().save_model(request, obj, form, change)
