"""The runs pages: a dry run to read, approved by a controller admin with a current code."""

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.second_factor import AUTHENTICATOR_CODE_INVALID
from config.errors import PortalError
from retention import runs
from retention.models import DestructionRun
from retention.scan import run_scan
from retention.tasks import execute
from subjects.models import DataSubject, PersonalDataItem
from tests.retention.conftest import contact_rule, current_code, register_fill, run_create, user

pytestmark = pytest.mark.django_db

Status = DestructionRun.Status


@pytest.fixture
def dry_run(acme):
    with tenant_context(acme):
        contact_rule()
        register_fill(3)
        return run_scan(kind=DestructionRun.Kind.PERIODIC)


def _url(name, run, acme):
    with tenant_context(acme):
        return reverse(f"retention:{name}", args=[run.pk])


def test_the_dry_run_shows_counts_per_category_rule_and_method_and_a_sample(owner, acme, dry_run):
    page = owner.get(_url("run_detail", dry_run, acme))

    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="run-counts"' in text
    assert "İletişim" in text or "Contact" in text
    assert ">3<" in text  # three items past retention
    with tenant_context(acme):
        some_subject = str(DataSubject.objects.first().uuid)
    assert some_subject in text  # the sample of subject references
    assert 'id="run-approval"' in text and 'name="token"' in text


def test_held_items_are_listed_with_the_reason(owner, acme):
    with tenant_context(acme):
        run = run_create(
            held=[{"hold": 1, "scope": "subject", "reason": "Dava dosyası 2026/123", "items": 4}]
        )
    page = owner.get(_url("run_detail", run, acme))
    assert "Dava dosyası 2026/123" in page.content.decode()


def test_a_controller_admin_approves_with_a_current_code_and_the_run_is_executed(
    owner, acme, dry_run, sent_tasks, django_capture_on_commit_callbacks
):
    with tenant_context(acme):
        code = current_code("owner")

    with django_capture_on_commit_callbacks(execute=True):
        page = owner.post(_url("run_approve", dry_run, acme), {"token": code})

    assert page.status_code == 302
    with tenant_context(acme):
        dry_run.refresh_from_db()
        assert dry_run.status == Status.APPROVED
        assert dry_run.approved_by == user("owner")
        assert dry_run.executed_automatically is False
    assert sent_tasks == [
        ("retention.tasks.execute", {"schema_name": "acme", "run_id": dry_run.pk})
    ]
    # the worker's part, here in process
    assert execute.apply(kwargs=sent_tasks[0][1]).get() == Status.DONE
    with tenant_context(acme):
        assert PersonalDataItem.objects.count() == 0
        dry_run.refresh_from_db()
        assert dry_run.minutes.seq >= 1
    page = owner.get(_url("run_detail", dry_run, acme))
    assert 'id="run-minutes"' in page.content.decode()


def test_a_wrong_code_is_refused_with_a_message_and_nothing_changes(
    owner, acme, dry_run, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        page = owner.post(_url("run_approve", dry_run, acme), {"token": "000000"})

    assert page.status_code == 400
    with tenant_context(acme):
        assert str(AUTHENTICATOR_CODE_INVALID) in page.content.decode()
        dry_run.refresh_from_db()
        assert dry_run.status == Status.DRY_RUN
        assert dry_run.approved_at is None
        assert PersonalDataItem.objects.count() == 3
    assert sent_tasks == []


@pytest.mark.parametrize("persona", ["colleague", "auditor"])
def test_officers_and_auditors_read_the_dry_run_but_cannot_approve_it(
    request, persona, acme, dry_run, sent_tasks
):
    client = request.getfixturevalue(persona)
    page = client.get(_url("run_detail", dry_run, acme))
    assert page.status_code == 200
    assert 'name="token"' not in page.content.decode()

    with tenant_context(acme):
        code = current_code(persona)
    refused = client.post(_url("run_approve", dry_run, acme), {"token": code})

    assert refused.status_code == 403
    with tenant_context(acme):
        dry_run.refresh_from_db()
        assert dry_run.status == Status.DRY_RUN
        with pytest.raises(PortalError) as error:
            runs.run_approve(run=dry_run, user=user(persona), token=code)
    assert error.value.status == 403
    assert sent_tasks == []


def test_another_controllers_staff_never_see_the_run(outsider, acme, dry_run):
    assert outsider.get(_url("run_detail", dry_run, acme)).status_code == 404


def test_a_run_already_approved_cannot_be_approved_again(owner, acme, dry_run):
    with tenant_context(acme):
        DestructionRun.objects.filter(pk=dry_run.pk).update(status=Status.DONE)
        code = current_code("owner")
    page = owner.post(_url("run_approve", dry_run, acme), {"token": code}, follow=True)
    assert str(runs.NOT_AWAITING_APPROVAL) in page.content.decode()
    assert 'name="token"' not in page.content.decode()


def test_an_admin_cancels_a_dry_run_and_nothing_is_destroyed(owner, acme, dry_run):
    page = owner.post(_url("run_cancel", dry_run, acme), follow=True)

    assert page.status_code == 200
    with tenant_context(acme):
        dry_run.refresh_from_db()
        assert dry_run.status == Status.CANCELLED
        assert PersonalDataItem.objects.count() == 3
        # a cancelled run cannot be approved afterwards
        with pytest.raises(PortalError):
            runs.run_approve(run=dry_run, user=user("owner"), token=current_code("owner"))


def test_a_failed_run_shows_why_and_an_admin_retries_it(
    owner, acme, sent_tasks, django_capture_on_commit_callbacks
):
    with tenant_context(acme):
        run = run_create(
            status=Status.FAILED,
            failure="OperationalError: the database went away",
            approved_by=user("owner"),
            approved_at=timezone.now(),
        )
    page = owner.get(_url("run_detail", run, acme))
    text = page.content.decode()
    assert "the database went away" in text
    assert _url("run_retry", run, acme) in text

    with django_capture_on_commit_callbacks(execute=True):
        owner.post(_url("run_retry", run, acme))

    with tenant_context(acme):
        run.refresh_from_db()
        assert run.status == Status.APPROVED
        assert run.failure == ""
    assert sent_tasks == [("retention.tasks.execute", {"schema_name": "acme", "run_id": run.pk})]


def test_the_auditor_sees_no_retry_button_and_cannot_retry(auditor, acme, sent_tasks):
    with tenant_context(acme):
        run = run_create(status=Status.FAILED, failure="boom")
    assert (
        _url("run_retry", run, acme)
        not in auditor.get(_url("run_detail", run, acme)).content.decode()
    )
    assert auditor.post(_url("run_retry", run, acme)).status_code == 403
    with tenant_context(acme):
        run.refresh_from_db()
        assert run.status == Status.FAILED


def test_scan_now_queues_a_scan_for_admins_only(
    owner, colleague, acme, sent_tasks, django_capture_on_commit_callbacks
):
    with tenant_context(acme):
        url = reverse("retention:scan_request")
        owner_pk = user("owner").pk

    assert colleague.post(url).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        page = owner.post(url)

    assert page.status_code == 302
    assert sent_tasks == [
        ("retention.tasks.scan", {"schema_name": "acme", "created_by_id": owner_pk})
    ]


def test_the_run_list_shows_kind_status_and_counts(auditor, acme, django_assert_max_num_queries):
    with tenant_context(acme):
        for n in range(5):
            run_create(
                status=Status.DONE,
                days_ago=n + 1,
                counts={"contact": {"method": "destroy", "rule": "", "items": 7, "subjects": 2}},
            )
        url = reverse("retention:run_list")

    with django_assert_max_num_queries(15):
        page = auditor.get(url)

    text = page.content.decode()
    assert page.status_code == 200
    assert text.count(">7<") == 5
    assert 'id="scan-now"' not in text  # auditors read only


def test_the_run_list_offers_the_scan_button_to_admins(owner, acme):
    with tenant_context(acme):
        url = reverse("retention:run_list")
    assert 'id="scan-now"' in owner.get(url).content.decode()
