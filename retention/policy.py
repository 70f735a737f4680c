"""The storage-and-destruction policy (saklama ve imha politikası), rendered from the inventory.

Destruction Regulation Art. 5–6 and 11: a controller registered in VERBIS keeps a policy
naming its data, the maximum retention periods, the methods, the periodic-destruction
interval and its security measures. The content is rendered in Turkish from what the
inventory and the rules hold right now; retention.services.policy_refresh stores it as a new
PolicyVersion whenever it differs from the latest, and each version is shown and printed
exactly as it was stored.
"""

from django.db import connection
from django.template.loader import render_to_string
from django.utils import translation

from config.pdf import BASE_CSS, html_to_pdf
from retention.anonymisation import FIELD_RULES
from retention.models import PolicyVersion, RetentionRule, RetentionSettings
from subjects.models import DataCategory, ProcessingPurpose, SubjectGroup

POLICY_LANGUAGE = "tr"


def _controller_name() -> str:
    tenant = getattr(connection, "tenant", None)
    return getattr(tenant, "legal_name", "") or ""


def policy_content_html() -> str:
    """The policy's body as the inventory says it now (no date, no version: only content)."""
    categories = list(DataCategory.objects.select_related("retention_rule").order_by("name"))
    rules = [(c, getattr(c, "retention_rule", None)) for c in categories]
    found = RetentionSettings.objects.first() or RetentionSettings()
    context = {
        "controller": _controller_name(),
        "groups": SubjectGroup.objects.order_by("name"),
        "purposes": ProcessingPurpose.objects.filter(is_active=True).order_by("name"),
        "rules": rules,
        "statute": RetentionRule.Source.STATUTE,
        "field_rules": FIELD_RULES,
        "settings": found,
    }
    with translation.override(POLICY_LANGUAGE):
        return render_to_string("retention/policy/content.html", context)


def policy_document_html(version: PolicyVersion) -> str:
    """A complete, printable HTML document of one stored version (for the PDF)."""
    with translation.override(POLICY_LANGUAGE):
        return render_to_string(
            "retention/policy/document.html",
            {"version": version, "css": BASE_CSS, "controller": _controller_name()},
        )


def policy_pdf(version: PolicyVersion) -> bytes:
    return html_to_pdf(policy_document_html(version))
