from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsConfig(AppConfig):
    """Data-subject applications (ilgili kişi başvuruları) under KVKK Art. 11 and 13."""

    name = "requests"
    verbose_name = _("Data-subject applications")
