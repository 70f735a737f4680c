"""The one destruction service: the only code that ends personal data (KVKK Art. 7).

Periodic scans, data-subject applications, the register's own destruction of a subject
and the end of a contract all end data here, by the method of the item's rule:

- delete: the item is kept but ``deleted_at`` is set; no reader of the portal or the API
  returns it any more (subjects.selectors, the API views);
- destroy: the item's row and its history rows are removed (the subject key would still
  open the history's ciphertext). When nothing of a subject remains, its identifiers,
  interactions with their history rows, attachment files and its data key go too
  (subjects.services.subjects_destruction_request/_complete: two databases, ordered,
  resumable). Its name history rows keep only ciphertext under the destroyed key, which
  nothing can open any more;
- anonymise: an AnonymisedFact (category, purpose, year of collection) is inserted, then
  the item and its history rows are removed (retention.anonymisation).

A run executes in batches of settings.RETENTION_BATCH_SIZE targets, in ascending item id.
Each batch is one data transaction under the schema's ledger lock: one statement takes the
next targets after the run's ``done_through`` and applies each method to them as a set
(joins, never one statement per row nor tens of thousands of ids sent from Python); the
batch's subjects with nothing left are marked for destruction; the ledger row of the batch
is written (key database, retention.ledger) and commits before the data does; the schema's
ledger mark and the run's ``done_through`` advance in the same transaction. So a batch ends
its targets exactly once, and a crash at any point resumes after the last batch that
committed. Memory stays flat: one batch's ids travel as PostgreSQL array text, and are
never all in Python. The run ends in one transaction with its signed minutes (the digest of
the ended item ids is computed in chunks from the targets) and ONE ``destroy`` entry in the
processing log, never one per row; calling run_execute again after a crash resumes after
the last batch done and never writes a second minutes record.
"""

import hashlib
import logging

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import Action
from audit.services import audit_entry_create
from config.errors import PortalError
from retention import ledger, scan, selectors
from retention.minutes import minutes_record
from retention.models import DestructionMinutes, DestructionRun, LegalHold
from subjects import services as subject_services

logger = logging.getLogger(__name__)

_DIGEST_CHUNK = 100_000

RUN_NOT_APPROVED = _("This destruction run has not been approved.")
SUBJECT_HELD = _("A legal hold keeps this data subject's data: %(reasons)s")
NOTHING_NAMED = _("Name the data subjects or items to destroy.")


def _pending_held_drop(run: DestructionRun) -> None:
    """Leave out pending targets a hold placed since the scan now keeps; record them."""
    if not selectors.holds_active().exists():
        return
    bound = selectors.params(reason=run.reason, run=run.pk, done=run.done_through)
    hold_match = f"{selectors.ACTIVE_HOLD_SQL} AND {selectors.HOLD_MATCH_SQL}"
    with transaction.atomic(), connection.cursor() as cursor:
        ledger.ledger_lock()  # no batch advances done_through meanwhile
        cursor.execute(
            f"""
            SELECT h.id, h.scope, h.reason, count(*)
              FROM retention_destructiontarget c JOIN retention_legalhold h ON {hold_match}
             WHERE c.run_id = %(run)s AND c.item_id > %(done)s
             GROUP BY h.id, h.scope, h.reason ORDER BY h.id
            """,  # noqa: S608 (constant fragments, bound parameters)
            bound,
        )
        newly_held = cursor.fetchall()
        if not newly_held:
            return
        cursor.execute(
            f"""
            DELETE FROM retention_destructiontarget c
             WHERE c.run_id = %(run)s AND c.item_id > %(done)s AND NOT ({selectors.NOT_HELD_SQL})
            RETURNING (SELECT code FROM subjects_datacategory WHERE id = c.category_id)
            """,  # noqa: S608 (constant fragments, bound parameters)
            bound,
        )
        dropped: dict[str, int] = {}
        for (code,) in cursor.fetchall():
            dropped[code] = dropped.get(code, 0) + 1
        run = DestructionRun.objects.select_for_update().get(pk=run.pk)
        held = {entry["hold"]: entry for entry in run.held}
        for hold_id, scope, reason, count in newly_held:
            entry = held.setdefault(
                hold_id, {"hold": hold_id, "scope": scope, "reason": reason, "items": 0}
            )
            entry["items"] += count
        run.held = sorted(held.values(), key=lambda entry: entry["hold"])
        for code, count in dropped.items():
            entry = run.counts.get(code)
            if entry:
                entry["items"] -= count
                entry["held"] += count
        run.save(update_fields=["held", "counts"])


def _emptied_subjects(subject_ids: list[int]) -> list[int]:
    """Of these subjects, those with nothing left: no item at all and not destroyed yet."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT s.id FROM subjects_datasubject s
             WHERE s.id = ANY(%s::bigint[]) AND s.key_destroyed_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM subjects_personaldataitem i WHERE i.subject_id = s.id)
            """,
            [subject_ids],
        )
        return [pk for (pk,) in cursor.fetchall()]


# The last item id of the next batch: along the (run, item_id) index. A scan has just
# filled the targets and the runtime role may not ANALYZE them, so the planner is told
# not to fetch all the run's remaining targets and sort them (the statistics say few).
_THROUGH_SQL = """
SELECT min(item_id), max(item_id), count(*) FROM (SELECT item_id FROM retention_destructiontarget
                           WHERE run_id = %s AND item_id > %s
                           ORDER BY run_id, item_id LIMIT %s) t
"""
_ALONG_THE_INDEX = "SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off"
_PLANNER_DEFAULTS = "RESET enable_bitmapscan; RESET enable_sort"
# A batch whose targets are at least this share of the ids in its range is dense.
DENSE = 0.25
_RANGE_JOINS = "SET LOCAL enable_nestloop = off"

# One batch in one statement: the run's targets after its done_through up to the batch's
# last item id, each ended by its method. Every part joins the batch's targets (a set, not
# ids sent from Python) within the batch's id range, and reads the snapshot the statement
# began with. It returns the batch's size and its item ids by method as PostgreSQL array
# text for the ledger.
_BATCH_SQL = """
WITH t AS MATERIALIZED (
    SELECT item_id, method FROM retention_destructiontarget
     WHERE run_id = %(run)s AND item_id > %(after)s AND item_id <= %(through)s
), deleted AS (
    UPDATE subjects_personaldataitem i SET deleted_at = now()
      FROM t WHERE t.method = 'delete' AND i.id = t.item_id AND i.deleted_at IS NULL
       AND i.id > %(after)s AND i.id <= %(through)s
), facts AS (
    INSERT INTO retention_anonymisedfact
           (category_id, purpose_id, collected_year, anonymised_at, run_id)
    SELECT i.category_id, i.purpose_id,
           EXTRACT(YEAR FROM i.collected_at AT TIME ZONE %(tz)s), now(), %(run)s
      FROM t JOIN subjects_personaldataitem i ON i.id = t.item_id
     WHERE t.method = 'anonymise' AND i.id > %(after)s AND i.id <= %(through)s
), history AS (
    DELETE FROM subjects_historicalpersonaldataitem h USING t
     WHERE t.method <> 'delete' AND h.id = t.item_id
       AND h.id > %(after)s AND h.id <= %(through)s
), gone AS (
    DELETE FROM subjects_personaldataitem i USING t
     WHERE t.method <> 'delete' AND i.id = t.item_id
       AND i.id > %(after)s AND i.id <= %(through)s
)
SELECT count(*),
       COALESCE(array_agg(item_id) FILTER (WHERE method = 'delete'), '{}')::text,
       COALESCE(array_agg(item_id) FILTER (WHERE method = 'destroy'), '{}')::text,
       COALESCE(array_agg(item_id) FILTER (WHERE method = 'anonymise'), '{}')::text
  FROM t
"""

# The batch's subjects with nothing left: no item at all (subjects_destruction_request
# leaves out those destroyed already).
_EMPTIED_SQL = """
SELECT t.subject_id
  FROM (SELECT DISTINCT subject_id FROM retention_destructiontarget
         WHERE run_id = %s AND item_id > %s AND item_id <= %s) t
 WHERE NOT EXISTS (SELECT 1 FROM subjects_personaldataitem i WHERE i.subject_id = t.subject_id)
"""


def batch_size() -> int:
    return max(1, settings.RETENTION_BATCH_SIZE)


def _batch_execute(run: DestructionRun) -> int:
    """One batch in one transaction; returns how many targets it ended (0: none left).

    The schema's ledger lock, taken first, serialises the batches of every run of the
    schema: the run's done_through read under it is where this batch starts, and the batch
    advances it, with its data and the ledger mark, in the same transaction.
    """
    with transaction.atomic():
        ledger.ledger_lock()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT done_through FROM retention_destructionrun WHERE id = %s", [run.pk]
            )
            (after,) = cursor.fetchone()
            cursor.execute(_ALONG_THE_INDEX)
            cursor.execute(_THROUGH_SQL, [run.pk, after, batch_size()])
            first, through, count = cursor.fetchone()
            cursor.execute(_PLANNER_DEFAULTS)
            if through is None:
                return 0
            if count >= DENSE * (through - first + 1):
                # Most ids of the batch's range are targets: reading the range of the items
                # and their history in index order and joining it beats one probe per target.
                cursor.execute(_RANGE_JOINS)
            cursor.execute(
                _BATCH_SQL,
                {
                    "run": run.pk,
                    "after": after,
                    "through": through,
                    "tz": timezone.get_default_timezone_name(),
                },
            )
            count, deleted, destroyed, anonymised = cursor.fetchone()
            cursor.execute("RESET enable_nestloop")
            cursor.execute(_EMPTIED_SQL, [run.pk, after, through])
            emptied = [pk for (pk,) in cursor.fetchall()]
        requested = subject_services.subjects_destruction_request(subject_ids=emptied)
        # The ledger commits first: a crash from here on leaves it ahead, never behind.
        last_id = ledger.ledger_write(
            run_uuid=run.uuid,
            deleted=deleted,
            destroyed=destroyed,
            anonymised=anonymised,
            subjects=requested,
        )
        ledger.mark_advance(last_id)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE retention_destructionrun SET done_through = %s, batches = batches + 1,"
                " progress_at = now() WHERE id = %s",
                [through, run.pk],
            )
    # Keys, identifiers, interactions and files of the emptied subjects: after the commit.
    subject_services.subjects_destruction_complete(subject_ids=[pk for pk, _uuid in requested])
    return count


def _named_subjects_destroy(run: DestructionRun) -> None:
    """Subjects an application or the register named: destroyed once nothing of them
    remains, unless a hold keeps them (a named subject may have had no item at all)."""
    if not run.subject_ids:
        return
    holds = list(selectors.subject_holds(subject_ids=run.subject_ids, reason=run.reason))
    if any(hold.scope == LegalHold.Scope.REFERENCE for hold in holds):
        return  # a reference hold keeps every subject the run names
    held = {hold.subject_id for hold in holds}
    with transaction.atomic():
        ledger.ledger_lock()
        emptied = [pk for pk in _emptied_subjects(run.subject_ids) if pk not in held]
        requested = subject_services.subjects_destruction_request(subject_ids=emptied)
        ledger.mark_advance(ledger.ledger_write(run_uuid=run.uuid, subjects=requested))
    subject_services.subjects_destruction_complete(subject_ids=[pk for pk, _uuid in requested])


def _interrupted_subjects_complete(run: DestructionRun) -> None:
    """Subjects of this run whose destruction a crash interrupted after its first step."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT s.id FROM subjects_datasubject s
             WHERE s.destruction_requested_at IS NOT NULL AND s.key_destroyed_at IS NULL
               AND (s.id IN (SELECT subject_id FROM retention_destructiontarget WHERE run_id = %s)
                    OR s.id = ANY(%s::bigint[]))
            """,
            [run.pk, run.subject_ids],
        )
        pending = [pk for (pk,) in cursor.fetchall()]
    size = batch_size()
    for start in range(0, len(pending), size):
        subject_services.subjects_destruction_complete(subject_ids=pending[start : start + size])


def affected_ids_digest(run: DestructionRun) -> str:
    """SHA-256 over the run's item ids in ascending order, one per line, read in chunks
    (PostgreSQL writes each chunk's text; memory stays flat)."""
    digest = hashlib.sha256()
    after = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_ALONG_THE_INDEX)
        while True:
            cursor.execute(
                """
                SELECT max(item_id), array_agg(item_id ORDER BY item_id)::text
                  FROM (SELECT item_id FROM retention_destructiontarget
                         WHERE run_id = %s AND item_id > %s ORDER BY run_id, item_id LIMIT %s) t
                """,
                [run.pk, after, _DIGEST_CHUNK],
            )
            after, ids = cursor.fetchone()
            if after is None:
                cursor.execute(_PLANNER_DEFAULTS)
                return digest.hexdigest()
            # '{1,2,3}' becomes '1\n2\n3\n': each id on a line of its own.
            digest.update(ids[1:-1].replace(",", "\n").encode() + b"\n")


def _run_finish(run_id: int) -> DestructionRun:
    with transaction.atomic():
        run = DestructionRun.objects.select_for_update().get(pk=run_id)
        if DestructionMinutes.objects.filter(run=run).exists():
            return run
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT count(*) FROM subjects_datasubject s
                 WHERE s.key_destroyed_at IS NOT NULL
                   AND (s.id IN (SELECT subject_id FROM retention_destructiontarget
                                  WHERE run_id = %s)
                        OR s.id = ANY(%s::bigint[]))
                """,
                [run.pk, run.subject_ids],
            )
            (subjects_destroyed,) = cursor.fetchone()
        run.status = DestructionRun.Status.DONE
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "finished_at"])
        minutes_record(run=run, affected_ids_digest=affected_ids_digest(run))
        audit_entry_create(
            action=Action.DESTROY,
            actor=run.approved_by or run.created_by,
            actor_label="" if (run.approved_by or run.created_by) else "retention",
            target=run,
            detail={
                "run": str(run.uuid),
                "kind": run.kind,
                "items": {code: entry["items"] for code, entry in run.counts.items()},
                "held": sum(entry["items"] for entry in run.held),
                "subjects_destroyed": subjects_destroyed,
            },
        )
    return run


def run_execute(*, run_id: int) -> DestructionRun:
    """Execute an approved (or interrupted) run; see the module's docstring. Must not be
    called inside a transaction: every batch commits on its own."""
    with transaction.atomic():
        run = DestructionRun.objects.select_for_update().get(pk=run_id)
        if run.status == DestructionRun.Status.DONE:
            return run
        if run.status not in (DestructionRun.Status.APPROVED, DestructionRun.Status.RUNNING):
            raise PortalError(RUN_NOT_APPROVED, code="run_not_approved", status=409)
        if run.status == DestructionRun.Status.APPROVED:
            run.status = DestructionRun.Status.RUNNING
            run.started_at = run.started_at or timezone.now()
            run.save(update_fields=["status", "started_at"])
    _pending_held_drop(run)
    run.refresh_from_db()
    _interrupted_subjects_complete(run)
    while _batch_execute(run):
        pass
    _named_subjects_destroy(run)
    return _run_finish(run.pk)


def destruction_on_demand(
    *,
    kind: str,
    reason: str,
    actor,
    subject_ids: list[int] | None = None,
    item_ids: list[int] | None = None,
) -> DestructionRun:
    """Scan and execute at once: a data-subject application (by subjects or by items, with
    the application as the reason) or the register's own destruction of a subject.

    The register's destruction of a subject is refused as a whole when a legal hold keeps
    any of it (the message gives the hold's reason); an application's run ends what no hold
    keeps and its minutes name what was kept and why.
    """
    subject_ids = list(subject_ids or [])
    item_ids = list(item_ids or [])
    if not subject_ids and not item_ids:
        raise PortalError(NOTHING_NAMED, code="nothing_named")
    if kind == DestructionRun.Kind.REGISTER:
        holds = list(selectors.subject_holds(subject_ids=subject_ids, reason=reason))
        if holds:
            raise _held(hold.reason for hold in holds)
    run = scan.run_scan(
        kind=kind,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        reason=reason,
        subject_ids=subject_ids,
        item_ids=item_ids,
    )
    if kind == DestructionRun.Kind.REGISTER and run.held:
        run.status = DestructionRun.Status.CANCELLED
        run.save(update_fields=["status"])
        raise _held(entry["reason"] for entry in run.held)
    run.status = DestructionRun.Status.APPROVED
    run.approved_at = timezone.now()
    run.approved_by = run.created_by
    run.save(update_fields=["status", "approved_at", "approved_by"])
    return run_execute(run_id=run.pk)


def _held(reasons) -> PortalError:
    return PortalError(
        SUBJECT_HELD % {"reasons": "; ".join(sorted(set(reasons)))},
        code="held",
        status=409,
    )
