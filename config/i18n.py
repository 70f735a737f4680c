"""Django and the third-party apps, read right in Turkish (the platform admin above all).

Three things a catalogue alone cannot do, set up once from the admin app's ready():

- Django capitalises a label with ``str.upper()``, which makes "Işlemi yapan" of "işlemi yapan";
  Turkish writes "İşlemi yapan". ``turkish_capfirst_install()`` gives Django's ``capfirst``
  (function and template filter) the Turkish capital of i while Turkish is active.
- django-otp and django-tenants label models and fields with plain strings that never pass
  through gettext, and some apps have no verbose name. ``third_party_labels_install()`` gives
  them lazily translated labels whose English is exactly the original, so English pages and
  migrations stay as they are.
- Labels the apps do pass through gettext only need their msgids in our catalogue, which takes
  precedence over each package's own (LOCALE_PATHS). ``THIRD_PARTY_MSGIDS`` lists them so that
  `make messages` keeps them in config/locale.
"""

import sys

from django.apps import apps
from django.conf import settings
from django.template import defaultfilters
from django.utils import text
from django.utils.formats import date_format
from django.utils.functional import keep_lazy_text
from django.utils.text import format_lazy
from django.utils.timezone import localtime
from django.utils.translation import get_language, gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

# Languages whose capital of i is İ (and of ı is I).
_DOTTED_I_LANGUAGES = {"tr", "az"}

# Labels third-party apps pass through gettext, missing or poorly worded in their catalogues.
THIRD_PARTY_MSGIDS = (
    # django-axes: lockouts and the log-in log
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("User Agent"),
    gettext_noop("IP Address"),
    gettext_noop("Username"),
    gettext_noop("HTTP Accept"),
    gettext_noop("Path"),
    gettext_noop("Attempt Time"),
    gettext_noop("Access lock out"),
    gettext_noop("GET Data"),
    gettext_noop("POST Data"),
    gettext_noop("Failed Logins"),
    gettext_noop("Access Attempt"),
    gettext_noop("Expires At"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("Logout Time"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("Locked Out"),
    gettext_noop("Form Data"),
    gettext_noop("Meta Data"),
    gettext_noop("Clean up expired attempts"),
    gettext_noop("Not set"),
    gettext_noop("Attempt Remaining"),
    # django-simple-history: the history pages of the admin
    gettext_noop("Object"),
    gettext_noop("Date/time"),
    gettext_noop("Comment"),
    gettext_noop("Changed by"),
    gettext_noop("Change reason"),
    gettext_noop("Changes"),
    gettext_noop("Created"),
    gettext_noop("Changed"),
    gettext_noop("Deleted"),
    gettext_noop("Deleted %(type_name)s"),
    gettext_noop("Revert"),
    gettext_noop("Revert %s"),
    gettext_noop("Revert %(verbose_name)s"),
    gettext_noop("View %s"),
    gettext_noop("View %(verbose_name)s"),
    gettext_noop("View history: %s"),
    gettext_noop("Change History"),
    gettext_noop("Press the 'Revert' button below to revert to this version of the object."),
    gettext_noop("Press the 'Change History' button below to edit the history."),
    gettext_noop(
        "Choose a date from the list below to revert to a previous version of this object."
    ),
    gettext_noop("This object doesn't have a change history."),
    gettext_noop('The %(name)s "%(obj)s" was changed successfully.'),
    gettext_noop("You may edit it again below"),
    # Django's admin: a numeral takes the singular in Turkish
    gettext_noop("Select all %(total_count)s %(module_name)s"),
    # django-otp's admin fieldsets (plain strings, translated by accounts/admin.py)
    gettext_noop("Identity"),
    gettext_noop("Timestamps"),
    gettext_noop("Configuration"),
    gettext_noop("State"),
    gettext_noop("Throttling"),
)

# Built-in permissions are stored in English ("Can add data controller"); shown translated.
PERMISSION_LABELS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def _capfirst(value):
    if not value:
        return value
    value = str(value)
    if value[0] == "i" and (get_language() or "").split("-")[0] in _DOTTED_I_LANGUAGES:
        return "İ" + value[1:]
    return value[0].upper() + value[1:]


capfirst = keep_lazy_text(_capfirst)


@defaultfilters.stringfilter
def _capfirst_filter(value):
    return _capfirst(value)


def turkish_capfirst_install() -> None:
    """Make every ``capfirst`` of Django and the apps, function and filter, these ones."""
    replacements = (
        (text.capfirst, capfirst),
        (defaultfilters.capfirst, _capfirst_filter),  # some modules import the filter itself
    )
    for module in list(sys.modules.values()):
        current = getattr(module, "capfirst", None)
        for original, replacement in replacements:
            if current is original:
                module.capfirst = replacement
    defaultfilters.register.filter("capfirst", _capfirst_filter, is_safe=True)


def permission_label(permission) -> str:
    """A permission as the admin lists it: '<app> | <model> | <what it allows>', translated."""
    model = permission.content_type.model_class()
    action = permission.codename.split("_", 1)[0]
    if model is None or action not in PERMISSION_LABELS:
        return str(permission)
    if permission.codename != f"{action}_{model._meta.model_name}":
        return str(permission)  # a custom permission: its own name
    allowed = PERMISSION_LABELS[action] % {"model": model._meta.verbose_name}
    return f"{permission.content_type} | {allowed}"


def _when(moment) -> str:
    return date_format(localtime(moment), "DATETIME_FORMAT") if moment else "—"


def _access_log_str(self) -> str:
    return gettext("Log-in of %(user)s at %(time)s") % {
        "user": self.username,
        "time": _when(self.attempt_time),
    }


def _access_attempt_str(self) -> str:
    return gettext("Failed log-ins of %(user)s since %(time)s") % {
        "user": self.username,
        "time": _when(self.attempt_time),
    }


def _access_failure_str(self) -> str:
    return gettext("Failed log-in of %(user)s at %(time)s from %(ip)s") % {
        "user": self.username,
        "time": _when(self.attempt_time),
        "ip": self.ip_address,
    }


def _label(model, name: str, verbose_name=None, help_text=None) -> None:
    field = model._meta.get_field(name)
    if verbose_name is not None:
        field.verbose_name = verbose_name
    if help_text is not None:
        field.help_text = help_text


def _model_names(model, singular, plural) -> None:
    model._meta.verbose_name = singular
    model._meta.verbose_name_plural = plural


def third_party_labels_install() -> None:
    """Translated labels where the apps use plain strings (same English, no migration)."""
    apps.get_app_config("axes").verbose_name = _("Log-in lockouts")
    apps.get_app_config("otp_totp").verbose_name = _("Authenticator apps")

    access_log = apps.get_model("axes", "AccessLog")
    access_log.__str__ = _access_log_str
    apps.get_model("axes", "AccessAttempt").__str__ = _access_attempt_str
    apps.get_model("axes", "AccessFailureLog").__str__ = _access_failure_str

    totp = apps.get_model("otp_totp", "TOTPDevice")
    _model_names(totp, _("TOTP device"), _("TOTP devices"))
    for device in (totp,):
        _label(device, "user", _("user"), _("The user that this device belongs to."))
        _label(device, "name", _("name"), _("The human-readable name of this device."))
        _label(device, "confirmed", _("confirmed"), _("Is this device ready for use?"))
        _label(
            device,
            "created_at",
            _("created at"),
            _("The date and time when this device was initially created in the system."),
        )
        _label(
            device,
            "last_used_at",
            _("last used at"),
            _("The most recent date and time this device was used."),
        )
        _label(
            device,
            "throttling_failure_timestamp",
            _("throttling failure timestamp"),
            _(
                "A timestamp of the last failed verification attempt. Null if last attempt "
                "succeeded."
            ),
        )
        _label(
            device,
            "throttling_failure_count",
            _("throttling failure count"),
            _("Number of successive failed attempts."),
        )
    _label(totp, "key", _("key"), _("A hex-encoded secret key of up to 40 bytes."))
    _label(totp, "step", _("step"), _("The time step in seconds."))
    _label(totp, "t0", help_text=_("The Unix time at which to begin counting steps."))
    _label(totp, "digits", _("digits"), _("The number of digits to expect in a token."))
    _label(
        totp,
        "tolerance",
        _("tolerance"),
        _("The number of time steps in the past or future to allow."),
    )
    _label(
        totp,
        "drift",
        _("drift"),
        _("The number of time steps the prover is known to deviate from our clock."),
    )
    _label(
        totp,
        "last_t",
        help_text=_(
            "The t value of the latest verified token. The next token must be at a higher "
            "time step."
        ),
    )

    # django-tenants names its fields without labels; the history copy shows them too.
    tenant = apps.get_model(settings.TENANT_MODEL)
    domain = apps.get_model(settings.TENANT_DOMAIN_MODEL)
    for model in (tenant, getattr(tenant, "history", None) and tenant.history.model):
        if model:
            _label(model, "schema_name", _("schema name"))
    _label(domain, "domain", _("domain"))
    _label(domain, "is_primary", _("is primary"))
    _label(domain, "tenant", _("data controller"))

    # django-simple-history calls its models "historical <name>" in English only.
    for model in apps.get_models():
        original = getattr(model, "instance_type", None)
        if original is not None and hasattr(model, "history_id"):
            _model_names(
                model,
                format_lazy(_("historical {}"), original._meta.verbose_name),
                format_lazy(_("historical {}"), original._meta.verbose_name_plural),
            )
