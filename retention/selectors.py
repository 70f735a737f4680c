"""Reads of retention: which items are past their retention, and which are held.

Everything here is SQL over the current schema (connection.schema_name): the expiry of
every item is computed by PostgreSQL from its category's RetentionRule in one statement,
never item by item in Python. The fragments below are shared by the scan (INSERT … SELECT
of a run's targets) and the backlog panel, so both always agree.

Legal holds (LegalHold), active while not released and not past ``ends_on``:
- subject scope: every item of that subject;
- category scope: every item of that category;
- reference scope (an application or litigation reference, e.g. BSV-2026-000123): there
  is no application model yet, so a subject is linked to a reference when a destruction
  run whose ``reason`` contains the reference names it in its ``subject_ids`` (this is how
  the requests app calls destruction_on_demand for an application); and a run whose own
  reason contains a held reference holds every item it would end.
"""

from datetime import datetime

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from retention.models import LegalHold
from subjects.models import PersonalDataItem

# The moment an item's retention ends, per its category's rule (i: item, s: subject, r: rule).
# Items of a subject without an end of relationship never expire by that event (NULL).
EXPIRY_SQL = """
(CASE r.event
   WHEN 'collected' THEN i.collected_at
   WHEN 'last_used' THEN COALESCE(i.last_used_at, i.collected_at)
   WHEN 'relationship_ended' THEN s.relationship_ended_at
   WHEN 'named_date' THEN r.named_date::timestamptz
 END
 + r.period * CASE r.period_unit
     WHEN 'days' THEN interval '1 day'
     WHEN 'months' THEN interval '1 month'
     ELSE interval '1 year'
   END)
"""

# A hold ``h`` is in force at %(today)s.
ACTIVE_HOLD_SQL = "h.released_at IS NULL AND h.ends_on >= %(today)s"

# Hold ``h`` holds the candidate ``c`` (item_id, subject_id, category_id) of a run whose
# reason is %(reason)s.
HOLD_MATCH_SQL = """
(   (h.scope = 'subject' AND h.subject_id = c.subject_id)
 OR (h.scope = 'category' AND h.category_id = c.category_id)
 OR (h.scope = 'reference' AND (
        strpos(%(reason)s, h.reference) > 0
     OR EXISTS (SELECT 1 FROM retention_destructionrun lr
                 WHERE strpos(lr.reason, h.reference) > 0
                   AND lr.subject_ids @> jsonb_build_array(c.subject_id)))))
"""

NOT_HELD_SQL = f"""
NOT EXISTS (SELECT 1 FROM retention_legalhold h WHERE {ACTIVE_HOLD_SQL} AND {HOLD_MATCH_SQL})
"""  # noqa: S608 (constant fragments, bound parameters)

# An item is due when its retention has ended, or when the explicit consent it relied on was
# withdrawn (subjects.services.consent_withdraw flags it): nothing else allows keeping it.
DUE_SQL = f"({EXPIRY_SQL} <= %(now)s OR i.consent_withdrawn_at <= %(now)s)"

# Every due, not yet ended item with its rule's method (destruction when its category has no
# rule, which only a withdrawn consent makes due): (item_id, subject_id, category_id, method).
# Deleted items are ended already; shredded subjects hold nothing.
EXPIRED_CANDIDATES_SQL = f"""
SELECT i.id AS item_id, i.subject_id, i.category_id, COALESCE(r.method, 'destroy') AS method
  FROM subjects_personaldataitem i
  LEFT JOIN retention_retentionrule r ON r.category_id = i.category_id
  JOIN subjects_datasubject s ON s.id = i.subject_id
 WHERE i.deleted_at IS NULL
   AND s.destruction_requested_at IS NULL AND s.key_destroyed_at IS NULL
   AND {DUE_SQL}
"""  # noqa: S608 (constant fragments, bound parameters)

# The items of named subjects and named items, all destroyed (an application's erasure or
# the register's own destruction of a subject), deleted items included.
NAMED_CANDIDATES_SQL = """
SELECT i.id AS item_id, i.subject_id, i.category_id, 'destroy' AS method
  FROM subjects_personaldataitem i
  JOIN subjects_datasubject s ON s.id = i.subject_id
 WHERE (i.subject_id = ANY(%(subject_ids)s::bigint[]) OR i.id = ANY(%(item_ids)s::bigint[]))
   AND s.key_destroyed_at IS NULL
"""


def params(*, now: datetime | None = None, reason: str = "", **extra) -> dict:
    now = now or timezone.now()
    return {"now": now, "today": timezone.localdate(now), "reason": reason, **extra}


def expired_items(now: datetime | None = None) -> QuerySet[PersonalDataItem]:
    """Items past their retention, or flagged by a withdrawn consent, and held by no legal
    hold, as one SQL query."""
    sql = f"SELECT c.item_id FROM ({EXPIRED_CANDIDATES_SQL}) c WHERE {NOT_HELD_SQL}"  # noqa: S608 (constant fragments, bound parameters)
    bound = params(now=now)
    # RawSQL takes positional parameters: bind the named ones in order of appearance.
    positional, ordered = _positional(sql, bound)
    return PersonalDataItem.objects.filter(id__in=RawSQL(positional, ordered))  # noqa: S611 (constant SQL, bound parameters)


def _positional(sql: str, bound: dict) -> tuple[str, list]:
    ordered = []
    out = sql
    while True:
        start = out.find("%(")
        if start < 0:
            return out, ordered
        end = out.index(")s", start)
        ordered.append(bound[out[start + 2 : end]])
        out = out[:start] + "%s" + out[end + 2 :]


def backlog(now: datetime | None = None) -> dict:
    """Items past their retention and not yet ended (unheld), and the oldest expiry."""
    sql = f"""
        SELECT count(*), min(LEAST({EXPIRY_SQL}, i.consent_withdrawn_at))
          FROM subjects_personaldataitem i
          LEFT JOIN retention_retentionrule r ON r.category_id = i.category_id
          JOIN subjects_datasubject s ON s.id = i.subject_id
         WHERE i.deleted_at IS NULL
           AND s.destruction_requested_at IS NULL AND s.key_destroyed_at IS NULL
           AND {DUE_SQL}
           AND NOT EXISTS (
               SELECT 1 FROM retention_legalhold h
                WHERE {ACTIVE_HOLD_SQL} AND {HOLD_MATCH_SQL.replace("c.", "i.")})
    """  # noqa: S608 (constant fragments, bound parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, params(now=now))
        count, oldest = cursor.fetchone()
    return {"expired_items": count, "oldest_expired_at": oldest}


def holds_active(*, now: datetime | None = None):
    today = timezone.localdate(now or timezone.now())
    return LegalHold.objects.filter(released_at__isnull=True, ends_on__gte=today)


def subject_holds(*, subject_ids: list[int], reason: str = "", now: datetime | None = None):
    """Holds in force on these subjects themselves: by subject, or by a reference that
    names them or that the run's reason contains (category holds are found per item)."""
    sql = f"""
        SELECT h.id FROM retention_legalhold h, unnest(%(subject_ids)s::bigint[]) AS c(subject_id)
         WHERE {ACTIVE_HOLD_SQL}
           AND ((h.scope = 'subject' AND h.subject_id = c.subject_id)
             OR (h.scope = 'reference' AND (
                    strpos(%(reason)s, h.reference) > 0
                 OR EXISTS (SELECT 1 FROM retention_destructionrun lr
                             WHERE strpos(lr.reason, h.reference) > 0
                               AND lr.subject_ids @> jsonb_build_array(c.subject_id)))))
    """  # noqa: S608 (constant fragments, bound parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, params(now=now, reason=reason, subject_ids=list(subject_ids)))
        ids = {hold_id for (hold_id,) in cursor.fetchall()}
    return LegalHold.objects.filter(pk__in=ids).order_by("pk")
