from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransfersConfig(AppConfig):
    """Transfers (aktarımlar), disclosure requests, consents and breaches (KVKK Art. 8, 9, 12)."""

    name = "transfers"
    verbose_name = _("Transfers")

    def ready(self) -> None:
        from subjects.exports import export_recorder_register
        from transfers.services import export_record

        export_recorder_register(export_record)
