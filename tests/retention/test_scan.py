"""The scan: a dry run with its targets fixed, counts per category and rule, a sample."""

from django_tenants.utils import tenant_context

from retention import scan
from retention.models import DestructionRun, DestructionTarget
from tests.retention.register import hold, item, items_of, rule, subject, years_ago


def test_a_dry_run_counts_per_category_rule_and_method_and_samples_subjects(acme):
    with tenant_context(acme):
        rule("contact", period=2, method="destroy")
        rule("identity", period=6, unit="months", event="last_used", method="anonymise")
        people = [
            subject(
                item("contact", collected=years_ago(3)), item("identity", collected=years_ago(1))
            )
            for _ in range(3)
        ]
        young = subject(item("contact", collected=years_ago(1)))

        run = scan.run_scan(kind=DestructionRun.Kind.PERIODIC)

        assert run.status == DestructionRun.Status.DRY_RUN and run.scanned_at
        assert run.counts["contact"] == {
            "method": "destroy", "rule": run.counts["contact"]["rule"],
            "items": 3, "held": 0, "subjects": 3,
        }  # fmt: skip
        assert run.counts["contact"]["rule"].startswith("2 ")
        assert run.counts["identity"]["items"] == 3
        assert run.counts["identity"]["method"] == "anonymise"
        assert sorted(run.sample) == sorted(str(p.uuid) for p in people)
        targets = set(DestructionTarget.objects.filter(run=run).values_list("item_id", flat=True))
        assert items_of(young)[0].pk not in targets and len(targets) == 6


def test_a_dry_run_ends_nothing(acme):
    with tenant_context(acme):
        rule("contact", period=1)
        person = subject(item("contact", collected=years_ago(3)))
        scan.run_scan(kind=DestructionRun.Kind.PERIODIC)
        assert len(items_of(person)) == 1


def test_categories_without_a_rule_are_never_scanned(acme):
    with tenant_context(acme):
        person = subject(item("marketing", collected=years_ago(30)))
        run = scan.run_scan(kind=DestructionRun.Kind.PERIODIC)
        assert run.counts == {} and not run.targets.exists()
        assert len(items_of(person)) == 1


def test_a_released_or_ended_hold_no_longer_holds(acme):
    with tenant_context(acme):
        rule("contact", period=1)
        person = subject(item("contact", collected=years_ago(3)))
        released = hold(scope="subject", subject=person)
        released.released_at = released.created_at
        released.save()
        run = scan.run_scan(kind=DestructionRun.Kind.PERIODIC)
        assert run.held == [] and run.counts["contact"]["items"] == 1


def test_an_application_naming_a_held_reference_ends_nothing(acme):
    with tenant_context(acme):
        person = subject(item("contact"))
        the_hold = hold(scope="reference", reference="2026/991 E.")
        run = scan.run_scan(
            kind=DestructionRun.Kind.APPLICATION,
            reason="Silme talebi, dava dosyası 2026/991 E.",
            subject_ids=[person.pk],
        )
        assert not run.targets.exists()
        assert run.held == [
            {"hold": the_hold.pk, "scope": "reference", "reason": the_hold.reason, "items": 1}
        ]
