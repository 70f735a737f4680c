"""How the anonymise method treats each field of a personal-data item (Regulation Art. 10).

An anonymised item is cut from its subject: the item row and its history rows are removed,
and only these facts survive, as an AnonymisedFact for statistics. The policy page prints
this table, so the rule is stated once, here, and the engine and the policy cannot drift.
"""

from django.utils.translation import gettext_lazy as _

# (field of PersonalDataItem, what anonymisation does with it)
FIELD_RULES = (
    ("subject", _("Removed: the fact is linked to no data subject.")),
    ("value", _("Removed: the value itself is never kept.")),
    ("category", _("Kept: the data category.")),
    ("purpose", _("Kept: the processing purpose.")),
    ("collected_at", _("Generalised to the year of collection.")),
    ("last_used_at", _("Removed.")),
    ("legal_basis", _("Removed.")),
    ("source_system", _("Removed.")),
    ("history", _("Every earlier version of the item is removed.")),
)
# The fields an AnonymisedFact keeps; everything else of the item is gone.
KEPT_FIELDS = ("category", "purpose", "collected_year")
