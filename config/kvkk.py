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


# --- Data-subject applications (ilgili kişi başvuruları), Art. 11, 13 and 14 -----------------


class ApplicationRight(models.TextChoices):
    """The nine rights of Art. 11(1), (a) to (ğ); one application may ask for several."""

    LEARN = "a", _("(a) Learn whether my personal data is processed")
    INFORMATION = "b", _("(b) Request information about the processing")
    PURPOSE = "c", _("(c) Learn the purpose and whether data is used accordingly")
    RECIPIENTS = "c2", _("(ç) Know the third parties, at home or abroad, it was transferred to")
    CORRECTION = "d", _("(d) Correction of incomplete or inaccurate data")
    DELETION = "e", _("(e) Deletion or destruction under Art. 7")
    NOTIFY_RECIPIENTS = "f", _("(f) Notification of (d) and (e) to the recipients")
    OBJECT_AUTOMATED = "g", _("(g) Objection to an outcome of solely automated analysis")
    COMPENSATION = "g2", _("(ğ) Compensation for damage from unlawful processing")


# The letter printed for each right in answers and lists ("ç" and "ğ" are Turkish letters).
APPLICATION_RIGHT_LETTERS = {
    "a": "a", "b": "b", "c": "c", "c2": "ç", "d": "d", "e": "e", "f": "f", "g": "g", "g2": "ğ",
}  # fmt: skip


class ApplicationChannel(models.TextChoices):
    """How an application may reach the controller (Communiqué on Application Procedures, Art. 5)."""

    WEB = "web", _("Web form of the controller (software built for applications)")
    WRITTEN = "written", _("Signed letter (wet ink)")
    KEP = "kep", _("Registered e-mail (KEP)")
    E_SIGNATURE = "e_signature", _("Secure electronic signature")
    MOBILE_SIGNATURE = "mobile_signature", _("Mobile signature")
    REGISTERED_EMAIL = "registered_email", _("E-mail address registered with the controller")


# The controller answers within thirty calendar days of receiving the application, with no
# pause and no extension (Art. 13(2)); asking the applicant for clarification does not stop it.
APPLICATION_ANSWER_DAYS = 30
# The assignee is reminded when this many days are left before the deadline, each once.
APPLICATION_REMINDER_DAYS_LEFT = (7, 3, 1)
# Fees (Communiqué Art. 7): free as a rule; above ten pages of answer, one lira per page;
# on a medium (CD, USB), the medium's cost; refunded if the application arose from the
# controller's error.
APPLICATION_FREE_PAGES = 10
APPLICATION_FEE_PER_PAGE_TRY = 1
# The applicant may complain to the Board within thirty days of the answer, and in any case
# within sixty days of the application (Art. 14(1)-(2)).
BOARD_COMPLAINT_DAYS_AFTER_ANSWER = 30
BOARD_COMPLAINT_DAYS_AFTER_APPLICATION = 60


class Art28Exception(models.TextChoices):
    """Art. 28(2): cases where the rights of Art. 11 (except compensation) do not apply."""

    CRIME_PREVENTION = (
        "a",
        _("Necessary to prevent a crime or for a criminal investigation (Art. 28(2)(a))"),
    )
    MADE_PUBLIC = "b", _("Data made public by the data subject (Art. 28(2)(b))")
    PUBLIC_DUTY = (
        "c",
        _(
            "Necessary for supervisory or regulatory duties or discipline by authorised public bodies (Art. 28(2)(c))"
        ),
    )
    ECONOMIC_INTEREST = (
        "d",
        _("Necessary to protect the State's economic and financial interests (Art. 28(2)(ç))"),
    )
