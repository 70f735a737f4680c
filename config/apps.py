from django.contrib.admin.apps import AdminConfig

from config.i18n import third_party_labels_install, turkish_capfirst_install


class PlatformAdminConfig(AdminConfig):
    """The admin app, installed in every process: where Django and the apps learn Turkish."""

    default_site = "tenants.admin_site.PlatformAdminSite"

    def __init__(self, app_name, app_module):
        super().__init__(app_name, app_module)
        # While the app registry is being built, before any module defines a form: labels
        # capitalised at import time go through the Turkish capfirst too.
        turkish_capfirst_install()

    def ready(self):
        super().ready()
        third_party_labels_install()
