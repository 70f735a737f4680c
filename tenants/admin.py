import time

from celery.result import AsyncResult
from django.contrib import admin, messages
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from config.admin import HistoryAdmin
from config.celery import app
from config.errors import PortalError
from tenants.forms import ProvisionForm
from tenants.models import Domain, Tenant, Undertaking, UndertakingVersion
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
    list_display = ["legal_name", "slug", "vkn", "status", "contract_end", "created_at"]
    list_filter = ["status", "language"]
    search_fields = ["legal_name", "slug", "vkn", "contract_no"]
    readonly_fields = ["schema_name", "slug", "status", "created_at"]
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

    @admin.action(description=_("Mark contract as ended"))
    def end_contract(self, request, queryset):
        self._set_status(request, queryset, Tenant.Status.CONTRACT_ENDED)


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
class UndertakingAdmin(HistoryAdmin):
    """The staff register: who signed which version, and when. Written only by signing."""

    list_display = ["user", "version", "signed_at", "ip_address"]
    list_filter = ["version", "user__is_active", "signed_at"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    list_select_related = ["user", "version"]
    date_hierarchy = "signed_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
