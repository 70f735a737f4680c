from django.contrib import admin

from audit.models import AuditEntry, Checkpoint
from config.admin import ReadOnlyAdminMixin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The platform's own processing log, read-only: the database refuses changes anyway."""

    list_display = ["id", "at", "actor_label", "action", "object_type", "object_id"]
    list_filter = ["action"]
    search_fields = ["actor_label", "object_id"]


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Signed chain heads of every controller (public schema), read-only like the log."""

    list_display = ["signed_at", "schema_name", "seq", "taken_by", "key_id"]
    list_filter = ["schema_name"]
    search_fields = ["schema_name", "entry_hash"]
