"""Writes of the retention app that a controller admin makes: rules per data category,
the retention settings, the Turkish starter set, legal holds and policy versions.

KVKK Art. 7 and the Destruction Regulation (İmha Yönetmeliği): every category has a maximum
retention period (azami saklama süresi), periodic destruction runs at most every six months
(Art. 11(2)), and the storage-and-destruction policy (saklama ve imha politikası) states it.

Rules and settings are about the controller's inventory, not processing of personal data:
their changes are kept in the models' history (who, when, what) and in the policy's versions,
not in the processing log. A legal hold is a decision about whose data is kept beyond its
period, so creating and releasing one is logged (with the subject's reference when it names
one).
"""

import hashlib
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from audit.models import Action
from audit.services import audit_entry_create
from config.errors import PortalError
from config.kvkk import DESTRUCTION_INTERVAL_MAX_MONTHS, RetentionEvent
from retention import policy, starter
from retention.models import LegalHold, PolicyVersion, RetentionRule, RetentionSettings
from subjects import inventory
from subjects.models import DataCategory, DataSubject

INTERVAL_TOO_LONG = _(
    "The interval between periodic destructions is at most %(max)s months (Destruction "
    "Regulation Art. 11(2)); choose 1 to %(max)s months."
)
INTERVAL_TOO_SHORT = _("The interval is at least 1 month.")
NAMED_DATE_REQUIRED = _("Name the date the period counts from.")
NAMED_DATE_ONLY_FOR_NAMED_EVENT = _("A named date is used only when the period counts from it.")
STATUTE_NEEDS_REFERENCE = _("Cite the provision that sets the period, e.g. 6102 sayılı TTK m. 82.")
PERIOD_AT_LEAST_ONE = _("The retention period is at least 1.")
HOLD_ENDS_IN_PAST = _("The end date of a hold must be in the future.")
HOLD_NEEDS_SUBJECT = _("Choose the data subject the hold is for.")
HOLD_NEEDS_CATEGORY = _("Choose the data category the hold is for.")
HOLD_NEEDS_REFERENCE = _("Give the application or litigation reference the hold is for.")
HOLD_SUBJECT_DESTROYED = _(
    "This data subject's data was already destroyed; nothing is left to hold."
)
HOLD_ALREADY_RELEASED = _("This hold was already released.")
OWNER_NOT_STAFF = _("The owner must be an active member of your staff.")


def _user(actor: Any):
    return actor if isinstance(actor, get_user_model()) else None


def _validated(entry) -> None:
    try:
        entry.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise PortalError(messages[0], field=None if field == "__all__" else field) from exc


def _saved(entry, *, actor: Any) -> None:
    """Save with the acting person in the history, in requests and outside them alike."""
    _validated(entry)
    if _user(actor) is not None:
        entry._history_user = actor
    entry.save()


# --- Settings -----------------------------------------------------------------------------


def retention_settings_get() -> RetentionSettings:
    """The controller's settings row for a write; the first call stores the defaults (every 6
    months, approval). Pages read them with retention.runs.retention_settings_read."""
    found, _created = RetentionSettings.objects.get_or_create(singleton=True)
    return found


def interval_check(*, months: int) -> None:
    """At most every six months (Destruction Regulation Art. 11(2)), at least every month."""
    if months > DESTRUCTION_INTERVAL_MAX_MONTHS:
        raise PortalError(
            INTERVAL_TOO_LONG % {"max": DESTRUCTION_INTERVAL_MAX_MONTHS}, field="interval_months"
        )
    if months < 1:
        raise PortalError(INTERVAL_TOO_SHORT, field="interval_months")


@transaction.atomic
def retention_settings_update(
    *,
    interval_months: int,
    auto_execute: bool,
    security_measures: str,
    actor: Any,
    request=None,
) -> RetentionSettings:
    """Set the periodic-destruction interval, automatic execution and the VERBIS security
    measures (Regulation Art. 11(2); KVKK Art. 12)."""
    interval_check(months=interval_months)
    found = RetentionSettings.objects.select_for_update().get(pk=retention_settings_get().pk)
    found.interval_months = interval_months
    found.auto_execute = auto_execute
    found.security_measures = security_measures.strip()
    _saved(found, actor=actor)
    policy_refresh(actor=actor)
    return found


# --- Rules ----------------------------------------------------------------------------------

RULE_FIELDS = (
    "period",
    "period_unit",
    "event",
    "named_date",
    "method",
    "source",
    "legal_reference",
    "recipient_groups",
    "transferred_abroad",
)


def _rule_check(values: dict[str, Any]) -> None:
    if values["period"] is None or values["period"] < 1:
        raise PortalError(PERIOD_AT_LEAST_ONE, field="period")
    if values["event"] == RetentionEvent.NAMED_DATE and values["named_date"] is None:
        raise PortalError(NAMED_DATE_REQUIRED, field="named_date")
    if values["event"] != RetentionEvent.NAMED_DATE and values["named_date"] is not None:
        raise PortalError(NAMED_DATE_ONLY_FOR_NAMED_EVENT, field="named_date")
    if values["source"] == RetentionRule.Source.STATUTE and not values["legal_reference"]:
        raise PortalError(STATUTE_NEEDS_REFERENCE, field="legal_reference")


@transaction.atomic
def retention_rule_save(
    *,
    category: DataCategory,
    period: int,
    period_unit: str,
    event: str,
    method: str,
    source: str,
    named_date: date | None = None,
    legal_reference: str = "",
    recipient_groups: str = "",
    transferred_abroad: bool = False,
    confirm: bool = False,
    actor: Any,
    request=None,
    refresh: bool = True,
) -> RetentionRule:
    """Set a category's maximum retention period, the event it counts from and its method
    (KVKK Art. 7; Regulation Art. 5, 7–10), with what VERBIS asks of it.

    A period the controller chose itself stays "to be confirmed" until a controller admin
    confirms it; changing the period, its event or the method asks for confirmation again.
    """
    values = {
        "period": period,
        "period_unit": period_unit,
        "event": event,
        "named_date": named_date,
        "method": method,
        "source": source,
        "legal_reference": (legal_reference or "").strip(),
        "recipient_groups": (recipient_groups or "").strip(),
        "transferred_abroad": bool(transferred_abroad),
    }
    _rule_check(values)
    rule = RetentionRule.objects.select_for_update().filter(category=category).first()
    if rule is None:
        rule = RetentionRule(category=category)
    substance = ("period", "period_unit", "event", "named_date", "method", "source")
    if rule.pk and any(getattr(rule, name) != values[name] for name in substance):
        rule.confirmed_at, rule.confirmed_by = None, None
    for name, value in values.items():
        setattr(rule, name, value)
    if confirm and rule.confirmed_at is None:
        rule.confirmed_at, rule.confirmed_by = timezone.now(), _user(actor)
    _saved(rule, actor=actor)
    if refresh:
        policy_refresh(actor=actor)
    return rule


@transaction.atomic
def retention_rule_confirm(*, rule: RetentionRule, actor: Any, request=None) -> RetentionRule:
    """A controller admin confirms a period the controller chose itself (no statute sets it)."""
    rule = RetentionRule.objects.select_for_update().get(pk=rule.pk)
    if rule.confirmed_at is None:
        rule.confirmed_at, rule.confirmed_by = timezone.now(), _user(actor)
        _saved(rule, actor=actor)
        policy_refresh(actor=actor)
    return rule


@transaction.atomic
def starter_set_adopt(*, actor: Any, request=None) -> dict[str, int]:
    """Adopt the Turkish starter set in one step: missing categories join the inventory under
    Turkish names, and categories without a rule get the starter's; existing rules and
    categories are never changed. Running it again changes nothing."""
    categories = rules = 0
    with translation.override("tr"):
        for entry in starter.STARTER_RULES:
            category = DataCategory.objects.filter(code=entry.code).first()
            if category is None:
                # through the inventory's own service, logged like any category an admin adds
                category = inventory.data_category_create(
                    code=entry.code,
                    name=str(entry.name),
                    special_category=entry.special,
                    actor=actor,
                    request=request,
                )
                categories += 1
            if RetentionRule.objects.filter(category=category).exists():
                continue
            retention_rule_save(
                category=category,
                period=entry.period,
                period_unit=entry.unit,
                event=entry.event,
                method=entry.method,
                source=entry.source,
                legal_reference=entry.legal_reference,
                recipient_groups=str(entry.recipient_groups),
                actor=actor,
                request=request,
                refresh=False,
            )
            rules += 1
    if categories or rules:
        policy_refresh(actor=actor)
    return {"categories": categories, "rules": rules}


# --- Legal holds ----------------------------------------------------------------------------


@transaction.atomic
def legal_hold_create(
    *,
    scope: str,
    reason: str,
    owner: Any,
    ends_on: date,
    subject: DataSubject | None = None,
    category: DataCategory | None = None,
    reference: str = "",
    actor: Any,
    request=None,
) -> LegalHold:
    """Keep data from destruction (hukuki saklama) while a right is established, exercised or
    defended (KVKK Art. 5(2)(e)): for one subject, one category, or everything an
    application or litigation reference names, until its end date or its release."""
    if ends_on is None or ends_on <= timezone.localdate():
        raise PortalError(HOLD_ENDS_IN_PAST, field="ends_on")
    if owner is None or not owner.is_active or not owner.role:
        raise PortalError(OWNER_NOT_STAFF, field="owner")
    reference = (reference or "").strip()
    if scope == LegalHold.Scope.SUBJECT:
        if subject is None:
            raise PortalError(HOLD_NEEDS_SUBJECT, field="subject")
        if subject.is_shredded:
            raise PortalError(HOLD_SUBJECT_DESTROYED, field="subject")
        category, reference = None, ""
    elif scope == LegalHold.Scope.CATEGORY:
        if category is None:
            raise PortalError(HOLD_NEEDS_CATEGORY, field="category")
        subject, reference = None, ""
    else:
        if not reference:
            raise PortalError(HOLD_NEEDS_REFERENCE, field="reference")
        subject, category = None, None
    hold = LegalHold(
        scope=scope,
        subject=subject,
        category=category,
        reference=reference,
        reason=(reason or "").strip(),
        owner=owner,
        ends_on=ends_on,
    )
    _saved(hold, actor=actor)
    audit_entry_create(
        action=Action.CREATE,
        actor=actor,
        target=hold,
        subject_ref=str(subject.uuid) if subject else "",
        request=request,
        detail={"event": "legal_hold_created", "scope": scope, "ends_on": ends_on.isoformat()},
    )
    return hold


@transaction.atomic
def legal_hold_release(*, hold: LegalHold, actor: Any, request=None) -> LegalHold:
    """End a hold before its end date: the data it kept is destroyed by its rule again."""
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is not None:
        raise PortalError(HOLD_ALREADY_RELEASED, code="released", status=409)
    hold.released_at = timezone.now()
    _saved(hold, actor=actor)
    audit_entry_create(
        action=Action.UPDATE,
        actor=actor,
        target=hold,
        subject_ref=str(hold.subject.uuid) if hold.subject_id else "",
        request=request,
        detail={"event": "legal_hold_released", "scope": hold.scope},
    )
    return hold


# --- Policy versions ------------------------------------------------------------------------


@transaction.atomic
def policy_refresh(*, actor: Any = None) -> PolicyVersion:
    """The current version of the storage-and-destruction policy (Regulation Art. 5–6).

    The policy is rendered from the inventory; when the rendering differs from the latest
    version, a new version is stored and the old ones stay as they were. The inventory (a
    lower layer) cannot call this when it changes; the policy page calls it when opened,
    and the services above call it after each change of theirs.
    """
    # One writer at a time: the settings row is the lock (version numbers are consecutive).
    RetentionSettings.objects.select_for_update().get(pk=retention_settings_get().pk)
    html = policy.policy_content_html()
    digest = hashlib.sha256(html.encode()).hexdigest()
    latest = PolicyVersion.objects.order_by("-number").first()
    if latest is not None and latest.digest == digest:
        return latest
    return PolicyVersion.objects.create(
        number=(latest.number + 1) if latest else 1,
        html=html,
        digest=digest,
        created_by=_user(actor),
    )
