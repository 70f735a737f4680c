from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubjectsConfig(AppConfig):
    """The personal-data register: data subjects (ilgili kişiler) and their data."""

    name = "subjects"
    verbose_name = _("Personal-data register")

    def ready(self) -> None:
        from subjects import tasks  # noqa: F401  (registers the tasks services queue by name)
        from subjects.services import attachment_limits_check

        attachment_limits_check()
