from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = _("Controllers")

    def ready(self):
        # The applications app checks e-signatures against the trust anchors the platform
        # admin keeps here; it may not import this app, so the platform registers its reader.
        from requests.esign import trust_anchors_provider_register
        from tenants.selectors import esign_trust_anchors_active

        trust_anchors_provider_register(esign_trust_anchors_active)
