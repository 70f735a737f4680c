from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """People: platform admins in the public schema, controller staff in each tenant schema."""

    name = "accounts"
    label = "accounts"
    verbose_name = _("Accounts")
