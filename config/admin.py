"""What every admin page of the platform shares: history pages, read-only records and
permission labels."""

from django.contrib.auth.models import Permission
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin

from config.i18n import permission_label


class HistoryAdmin(SimpleHistoryAdmin):
    """Field-level history pages. A version that is not a number is not found, never a 500
    (the user form's relative "../password/" link, followed from a version page, asks for one).
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if not str(version_id).isdigit():
            raise Http404
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyAdminMixin:
    """Records written only by their own services (logs, registers, certificates): the admin
    shows them and changes nothing."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PermissionLabelsMixin:
    """Permission pickers list built-in permissions in the reader's language."""

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.related_model is Permission:
            field.label_from_instance = permission_label
        return field
