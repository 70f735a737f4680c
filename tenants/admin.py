from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from config.errors import PortalError
from tenants.models import Domain, Tenant, Undertaking, UndertakingVersion
from tenants.services import tenant_provision, tenant_set_status


class ProvisionForm(forms.ModelForm):
    admin_username = forms.CharField(label=_("First admin's user name"), max_length=150)
    admin_email = forms.EmailField(label=_("First admin's e-mail"))
    admin_first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    admin_last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)

    class Meta:
        model = Tenant
        fields = [
            "slug",
            "legal_name",
            "vkn",
            "mersis_no",
            "verbis_no",
            "kep_address",
            "contact_name",
            "contact_email",
            "contact_phone",
            "contract_no",
            "contract_start",
            "contract_end",
            "language",
        ]

    def validate_unique(self):
        """Uniqueness is the provisioning service's to judge (schema names too)."""


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ["domain", "is_primary"]
    readonly_fields = ["domain", "is_primary"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Tenant)
class TenantAdmin(SimpleHistoryAdmin):
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
            )
        ]
        return custom + urls

    def provision_view(self, request):
        form = ProvisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = dict(form.cleaned_data)
            try:
                result = tenant_provision(provisioned_by=request.user, **data)
            except PortalError as exc:
                form.add_error(exc.field, exc.message)
            else:
                messages.success(
                    request,
                    _(
                        "%(name)s is ready at %(url)s. Send the first admin this one-time link: %(link)s"
                    )
                    % {
                        "name": result.tenant,
                        "url": result.tenant.base_url,
                        "link": result.invitation_url,
                    },
                )
                return redirect(reverse("admin:tenants_tenant_change", args=[result.tenant.pk]))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.model._meta,
            "title": _("Provision a data controller"),
        }
        return render(request, "admin/tenants/tenant/provision.html", context)

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
class UndertakingVersionAdmin(SimpleHistoryAdmin):
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
class UndertakingAdmin(SimpleHistoryAdmin):
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
