from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RetentionConfig(AppConfig):
    """Inventory, retention rules and destruction (saklama ve imha) under KVKK Art. 7."""

    name = "retention"
    verbose_name = _("Retention and destruction")
