"""The one destruction service: each method, each trigger event, holds, history, subjects."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from audit.models import Action, AuditEntry
from retention import destruction, scan, selectors
from retention.models import AnonymisedFact, DestroyedBatch, DestructionMinutes, DestructionRun
from subjects import selectors as subject_selectors
from subjects.crypto import KEYS_DATABASE, subject_cipher_of
from subjects.models import (
    DataSubject,
    Interaction,
    PersonalDataItem,
    SubjectDataKey,
    SubjectIdentifier,
)
from tests.retention.register import (
    NOW,
    admin,
    approve,
    hold,
    item,
    items_of,
    rule,
    subject,
    years_ago,
)


def _periodic() -> DestructionRun:
    run = approve(scan.run_scan(kind=DestructionRun.Kind.PERIODIC))
    return destruction.run_execute(run_id=run.pk)


def _history_values(item_ids) -> list[bytes]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT value_enc FROM subjects_historicalpersonaldataitem WHERE id = ANY(%s)",
            [list(item_ids)],
        )
        return [bytes(value) for (value,) in cursor.fetchall()]


def test_an_expired_item_of_a_living_subject_is_destroyed_with_every_copy_of_its_ciphertext(acme):
    with tenant_context(acme):
        rule("contact", period=2)
        person = subject(
            item("contact", collected=years_ago(3)), item("identity", collected=years_ago(3))
        )
        expired, kept = items_of(person)
        expired_ciphertext = bytes(expired.value_enc)
        assert _history_values([expired.pk]) == [expired_ciphertext]

        run = _periodic()

        assert run.status == DestructionRun.Status.DONE
        assert not PersonalDataItem.objects.filter(pk=expired.pk).exists()
        assert _history_values([expired.pk]) == []
        with connection.cursor() as cursor:  # no history row anywhere holds the ciphertext
            cursor.execute(
                "SELECT count(*) FROM subjects_historicalpersonaldataitem WHERE value_enc = %s",
                [expired_ciphertext],
            )
            assert cursor.fetchone()[0] == 0
        # the subject lives on with its other item, readable
        person.refresh_from_db()
        assert not person.is_shredded
        view = subject_selectors.subject_decrypt(person)
        assert [row.id for row in view.items] == [kept.pk]
        assert run.counts["contact"]["items"] == 1 and run.counts["contact"]["method"] == "destroy"


def test_deleted_items_are_kept_but_no_reader_returns_them(acme):
    with tenant_context(acme):
        rule("contact", period=2, method="delete")
        person = subject(item("contact", collected=years_ago(3)), item("identity"))
        deleted, kept = items_of(person)

        _periodic()

        deleted.refresh_from_db()
        assert deleted.deleted_at is not None
        assert [row.id for row in subject_selectors.subject_decrypt(person).items] == [kept.pk]
        assert subject_selectors.subject_list().get(pk=person.pk).item_count == 1
        # and a deleted item is never expired again
        assert not selectors.expired_items(NOW).filter(pk=deleted.pk).exists()


def test_anonymised_items_leave_only_category_purpose_and_year(acme):
    with tenant_context(acme):
        rule("contact", period=1, method="anonymise")
        collected = years_ago(3)
        person = subject(item("contact", collected=collected), item("identity"))
        anonymised, _kept = items_of(person)

        run = _periodic()

        assert not PersonalDataItem.objects.filter(pk=anonymised.pk).exists()
        assert _history_values([anonymised.pk]) == []
        fact = AnonymisedFact.objects.get(run=run)
        assert (fact.category.code, fact.purpose.code) == ("contact", "customer_service")
        assert fact.collected_year == collected.year


@pytest.mark.parametrize(
    ("event", "expired_when", "kept_when"),
    [
        ("collected", {"collected": years_ago(3)}, {"collected": years_ago(1)}),
        (
            "last_used",
            {"collected": years_ago(5), "last_used": years_ago(3)},
            {"collected": years_ago(5), "last_used": years_ago(1)},
        ),
    ],
)
def test_items_expire_counted_from_collection_or_last_use(acme, event, expired_when, kept_when):
    with tenant_context(acme):
        rule("contact", period=2, event=event)
        expired = items_of(subject(item("contact", **expired_when)))[0]
        kept = items_of(subject(item("contact", **kept_when)))[0]
        expired_ids = set(selectors.expired_items(NOW).values_list("pk", flat=True))
        assert expired.pk in expired_ids and kept.pk not in expired_ids


def test_last_use_falls_back_to_collection(acme):
    with tenant_context(acme):
        rule("contact", period=2, event="last_used")
        never_used = items_of(subject(item("contact", collected=years_ago(3))))[0]
        assert selectors.expired_items(NOW).filter(pk=never_used.pk).exists()


def test_items_expire_from_the_end_of_the_relationship_and_never_without_one(acme):
    with tenant_context(acme):
        rule("contact", period=6, unit="months", event="relationship_ended")
        ended = items_of(subject(item("contact", collected=years_ago(5)), ended=years_ago(1)))[0]
        recent = items_of(subject(item("contact", collected=years_ago(5)), ended=years_ago(0.2)))[0]
        ongoing = items_of(subject(item("contact", collected=years_ago(5))))[0]
        expired_ids = set(selectors.expired_items(NOW).values_list("pk", flat=True))
        assert ended.pk in expired_ids
        assert recent.pk not in expired_ids and ongoing.pk not in expired_ids


def test_items_expire_from_a_named_date(acme):
    with tenant_context(acme):
        rule("contact", period=30, unit="days", event="named_date",
             named_date=date.today() - timedelta(days=31))  # fmt: skip
        expired = items_of(subject(item("contact", collected=years_ago(0.01))))[0]
        assert selectors.expired_items(NOW).filter(pk=expired.pk).exists()
        rule("contact", period=30, unit="days", event="named_date",
             named_date=date.today() - timedelta(days=29))  # fmt: skip
        assert not selectors.expired_items(NOW).filter(pk=expired.pk).exists()


def test_a_subject_is_destroyed_entirely_when_its_last_item_goes(acme):
    with tenant_context(acme):
        rule("contact", period=1)
        person = subject(item("contact", collected=years_ago(3)))
        Interaction.objects.create(
            subject=person, kind="call", purpose_id=items_of(person)[0].purpose_id,
            occurred_at=NOW, text_enc=b"x",
        )  # fmt: skip

        _periodic()

        person.refresh_from_db()
        assert person.key_destroyed_at is not None
        assert not SubjectIdentifier.objects.filter(subject=person).exists()
        assert not Interaction.objects.filter(subject=person).exists()
        assert not SubjectDataKey.objects.filter(
            schema_name="acme", subject_uuid=person.uuid
        ).exists()
        assert subject_cipher_of(person) is None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM subjects_historicalinteraction WHERE subject_id = %s",
                [person.pk],
            )
            assert cursor.fetchone()[0] == 0


@pytest.mark.parametrize("scope", ["subject", "category", "reference"])
def test_held_items_are_never_destroyed_and_the_dry_run_says_why(acme, scope):
    with tenant_context(acme):
        rule("contact", period=1)
        person = subject(item("contact", collected=years_ago(3)))
        other = subject(item("contact", collected=years_ago(3)))
        if scope == "subject":
            the_hold = hold(scope="subject", subject=person)
        elif scope == "category":
            the_hold = hold(scope="category", category=items_of(person)[0].category)
        else:
            the_hold = hold(scope="reference", reference="BSV-2026-000123")
            # the application names the subject: it is linked to the reference from now on
            DestructionRun.objects.create(
                kind=DestructionRun.Kind.APPLICATION, status=DestructionRun.Status.DONE,
                reason="Başvuru BSV-2026-000123", subject_ids=[person.pk],
            )  # fmt: skip

        run = scan.run_scan(kind=DestructionRun.Kind.PERIODIC)

        assert run.status == DestructionRun.Status.DRY_RUN
        held_items = 2 if scope == "category" else 1
        assert run.held == [
            {"hold": the_hold.pk, "scope": scope, "reason": the_hold.reason, "items": held_items}
        ]
        assert run.counts["contact"]["held"] == held_items
        assert not selectors.expired_items(NOW).filter(subject=person).exists()
        destruction.run_execute(run_id=approve(run).pk)
        assert PersonalDataItem.objects.filter(subject=person).exists()
        assert PersonalDataItem.objects.filter(subject=other).exists() == (scope == "category")


def test_a_hold_placed_after_the_scan_still_keeps_the_data(acme):
    with tenant_context(acme):
        rule("contact", period=1)
        person = subject(item("contact", collected=years_ago(3)))
        run = approve(scan.run_scan(kind=DestructionRun.Kind.PERIODIC))
        the_hold = hold(scope="subject", subject=person)

        run = destruction.run_execute(run_id=run.pk)

        assert PersonalDataItem.objects.filter(subject=person).exists()
        assert run.held[0]["hold"] == the_hold.pk and run.counts["contact"]["held"] == 1
        assert DestructionMinutes.objects.get(run=run).body["held"] == run.held


def test_a_run_writes_one_log_entry_and_one_minutes_and_running_it_again_changes_nothing(acme):
    with tenant_context(acme):
        rule("contact", period=1)
        subjects = [subject(item("contact", collected=years_ago(3))) for _ in range(3)]
        before = AuditEntry.objects.filter(action=Action.DESTROY).count()

        run = _periodic()
        again = destruction.run_execute(run_id=run.pk)

        assert again.status == DestructionRun.Status.DONE
        entries = AuditEntry.objects.filter(action=Action.DESTROY)
        assert entries.count() == before + 1
        entry = entries.order_by("-pk").first()
        assert entry.detail["run"] == str(run.uuid) and entry.detail["items"] == {"contact": 3}
        assert entry.detail["subjects_destroyed"] == 3
        assert "Ayşe" not in str(entry.detail)
        minutes = DestructionMinutes.objects.get(run=run)
        assert minutes.body["affected_ids_digest"] == destruction.affected_ids_digest(run)
        assert all(DataSubject.objects.get(pk=s.pk).key_destroyed_at for s in subjects)


def test_batches_are_small_and_each_ends_its_own_targets(acme, settings):
    settings.RETENTION_BATCH_SIZE = 2
    with tenant_context(acme):
        rule("contact", period=1)
        people = [subject(item("contact", collected=years_ago(3))) for _ in range(5)]
        expired = sorted(i.pk for person in people for i in items_of(person))
        run = _periodic()
        batches = DestroyedBatch.objects.using(KEYS_DATABASE).filter(run_uuid=run.uuid)
        ended = [sorted(batch.destroyed_ids) for batch in batches.order_by("pk")]
        assert run.batches == 3 and [len(ids) for ids in ended] == [2, 2, 1]
        assert sorted(pk for ids in ended for pk in ids) == expired
        assert selectors.targets_done(run=run) == run.targets.count() == 5


def test_an_unapproved_run_is_not_executed(acme):
    with tenant_context(acme):
        rule("contact", period=1)
        person = subject(item("contact", collected=years_ago(3)))
        run = scan.run_scan(kind=DestructionRun.Kind.PERIODIC)
        with pytest.raises(destruction.PortalError):
            destruction.run_execute(run_id=run.pk)
        assert PersonalDataItem.objects.filter(subject=person).exists()


def test_an_application_destroys_the_named_items_or_subjects(acme):
    with tenant_context(acme):
        one = subject(item("contact"), item("identity"))
        whole = subject(item("contact"))
        first, second = items_of(one)

        run = destruction.destruction_on_demand(
            kind=DestructionRun.Kind.APPLICATION, reason="BSV-2026-000777", actor=admin(),
            item_ids=[first.pk], subject_ids=[whole.pk],
        )  # fmt: skip

        assert run.status == DestructionRun.Status.DONE and run.reason == "BSV-2026-000777"
        assert list(PersonalDataItem.objects.filter(subject=one)) == [second]
        assert DataSubject.objects.get(pk=whole.pk).key_destroyed_at is not None
        assert DataSubject.objects.get(pk=one.pk).key_destroyed_at is None


def test_a_held_subject_is_not_destroyed_by_the_register(acme):
    with tenant_context(acme):
        person = subject(item("contact"))
        hold(scope="subject", subject=person, reason="Vergi incelemesi sürüyor")
        with pytest.raises(destruction.PortalError, match="Vergi incelemesi"):
            destruction.destruction_on_demand(
                kind=DestructionRun.Kind.REGISTER, reason="talep", actor=admin(),
                subject_ids=[person.pk],
            )  # fmt: skip
        assert PersonalDataItem.objects.filter(subject=person).exists()


def test_a_scan_of_one_controller_never_touches_another(acme, globex):
    with tenant_context(globex):
        rule("contact", period=1)
        theirs = subject(item("contact", collected=years_ago(3)))
    with tenant_context(acme):
        rule("contact", period=1)
        subject(item("contact", collected=years_ago(3)))
        run = _periodic()
        assert run.counts["contact"]["items"] == 1
    with tenant_context(globex):
        assert PersonalDataItem.objects.filter(subject=theirs).exists()
        assert not DestructionRun.objects.exists()
        assert selectors.backlog(NOW)["expired_items"] == 1


def test_the_backlog_counts_expired_unheld_items_and_their_oldest_expiry(acme):
    with tenant_context(acme):
        rule("contact", period=1)
        subject(item("contact", collected=years_ago(3)))
        subject(item("contact", collected=years_ago(2)))
        held = subject(item("contact", collected=years_ago(4)))
        hold(scope="subject", subject=held)
        backlog = selectors.backlog(NOW)
        assert backlog["expired_items"] == 2
        assert abs((backlog["oldest_expired_at"] - years_ago(2)).days) <= 1
