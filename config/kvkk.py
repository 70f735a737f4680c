"""Rules and numbers of KVKK (Law No. 6698) that the code encodes, each cited once here.

Everything else imports from this module; a stricter value may be chosen by a
controller where the law allows it, never a looser one.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LegalBasis(models.TextChoices):
    """Processing conditions (işleme şartları), Art. 5 and Art. 6(3) as amended in 2024."""

    EXPLICIT_CONSENT = "art5_1", _("Explicit consent (Art. 5(1))")
    LAW = "art5_2_a", _("Expressly provided by law (Art. 5(2)(a))")
    VITAL_INTEREST = "art5_2_b", _("Vital interest where consent is impossible (Art. 5(2)(b))")
    CONTRACT = "art5_2_c", _("Necessary for a contract (Art. 5(2)(c))")
    LEGAL_OBLIGATION = "art5_2_c2", _("Legal obligation of the controller (Art. 5(2)(ç))")
    MADE_PUBLIC = "art5_2_d", _("Made public by the data subject (Art. 5(2)(d))")
    RIGHT = "art5_2_e", _("Establishing, exercising or protecting a right (Art. 5(2)(e))")
    LEGITIMATE_INTEREST = "art5_2_f", _("Legitimate interest (Art. 5(2)(f))")
    SPECIAL_STATUTORY = "art6_3", _("Statutory ground for special categories (Art. 6(3))")


# Special categories (özel nitelikli kişisel veriler) may be processed only on these
# bases (Art. 6(3)); any other basis is refused for them (commitment C10).
SPECIAL_CATEGORY_BASES = frozenset({LegalBasis.EXPLICIT_CONSENT, LegalBasis.SPECIAL_STATUTORY})
# Art. 6(3) applies only to special categories; ordinary data uses the Art. 5 bases.
ORDINARY_CATEGORY_BASES = frozenset(set(LegalBasis) - {LegalBasis.SPECIAL_STATUTORY})


class SpecialCategory(models.TextChoices):
    """Art. 6(1): the special categories of personal data."""

    RACE = "race", _("Race")
    ETHNIC_ORIGIN = "ethnic_origin", _("Ethnic origin")
    POLITICAL_OPINION = "political_opinion", _("Political opinion")
    PHILOSOPHICAL_BELIEF = "philosophical_belief", _("Philosophical belief")
    RELIGION = "religion", _("Religion, sect or other beliefs")
    APPEARANCE = "appearance", _("Dress and appearance")
    MEMBERSHIP = "membership", _("Association, foundation or union membership")
    HEALTH = "health", _("Health")
    SEX_LIFE = "sex_life", _("Sex life")
    CRIMINAL = "criminal", _("Criminal conviction and security measures")
    BIOMETRIC = "biometric", _("Biometric data")
    GENETIC = "genetic", _("Genetic data")


# TCKN: 11 digits, first non-zero, two check digits (identity-number rules of the
# Population Services Law; used for Art. 13 applications of Turkish citizens).
TCKN_LENGTH = 11


# --- Retention and destruction (Art. 7; Regulation on the Deletion, Destruction or
# Anonymisation of Personal Data, "İmha Yönetmeliği", Official Gazette 28.10.2017) ---------


class DestructionMethod(models.TextChoices):
    """The three ways personal data ends (Regulation Art. 7–10)."""

    DELETE = "delete", _("Delete (unreachable for every user)")
    DESTROY = "destroy", _("Destroy (irreversibly gone for everyone)")
    ANONYMISE = "anonymise", _("Anonymise (no longer linked to a person)")


class RetentionEvent(models.TextChoices):
    """The event a retention period counts from."""

    COLLECTED = "collected", _("Collection")
    LAST_USED = "last_used", _("Last use")
    RELATIONSHIP_ENDED = "relationship_ended", _("End of the customer relationship")
    NAMED_DATE = "named_date", _("A named date")


# Periodic destruction at intervals stated in the policy, at most every six months
# (Regulation Art. 11(2)); a controller may choose a shorter interval, never a longer one.
DESTRUCTION_INTERVAL_MAX_MONTHS = 6
# Every deletion, destruction and anonymisation is recorded, and the records are kept
# at least three years (Regulation Art. 7(3)).
DESTRUCTION_RECORDS_MIN_YEARS = 3


# --- Data breaches (veri ihlalleri), Art. 12(5) ------------------------------------------

# The controller notifies the Board within 72 hours of becoming aware of a breach
# (Art. 12(5); Board decision 2019/10 of 24.01.2019). The clock runs from awareness.
BREACH_BOARD_NOTICE_HOURS = 72
# Reminders to the controller admins when this many hours are left (0: overdue), each once.
BREACH_REMINDER_HOURS_LEFT = (48, 24, 6, 0)
# A processor notifies the controller "without delay" (gecikmeksizin; Art. 12(5) with
# Board decision 2019/10): the law sets no hours, so the portal flags any delay past this.
PROCESSOR_BREACH_NOTICE_HOURS = 24
