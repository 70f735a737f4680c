"""The processing log: written by every feature, chained by hash, refused change by the database."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

from audit.models import Action, AuditEntry, ChainLink
from audit.selectors import audit_chain_verify
from audit.services import audit_chain_link, audit_entry_create
from tests.conftest import in_thread
from tests.factories import PASSWORD


def test_failed_login_and_accepted_password_are_logged(acme):
    client = Client(HTTP_HOST=acme.host, REMOTE_ADDR="10.1.2.3")
    client.post(reverse("accounts:login"), {"username": "auditor", "password": "nope-nope-nope"})
    client.post(reverse("accounts:login"), {"username": "auditor", "password": PASSWORD})

    with tenant_context(acme):
        failed = AuditEntry.objects.filter(action=Action.LOGIN_FAILED).latest("id")
        password = AuditEntry.objects.filter(action=Action.PASSWORD_ACCEPTED).latest("id")
    assert (failed.actor_label, failed.ip_address) == ("auditor", "10.1.2.3")
    assert password.actor_label == "auditor" and password.pk > failed.pk


def test_logout_is_logged(owner, acme):
    owner.post(reverse("accounts:logout"))
    with tenant_context(acme):
        assert AuditEntry.objects.filter(action=Action.LOGOUT, actor_label="owner").exists()


def test_entries_chain_each_to_the_previous(acme):
    with tenant_context(acme):
        first = audit_entry_create(action=Action.READ, actor_label="tester", purpose="chain test")
        second = audit_entry_create(action=Action.EXPORT, actor_label="tester")
        assert audit_chain_verify().waiting >= 2  # linked once their transaction commits

        audit_chain_link()

        first, second = ChainLink.objects.get(entry=first), ChainLink.objects.get(entry=second)
        assert second.seq == first.seq + 1
        assert second.prev_hash == first.entry_hash
        assert audit_chain_verify().ok and audit_chain_verify().waiting == 0


def test_an_entry_is_linked_as_soon_as_its_transaction_commits(committed_tenant):
    tenant = committed_tenant("linkco")

    def act():
        with tenant_context(tenant):
            with transaction.atomic():
                entry = audit_entry_create(action=Action.READ, actor_label="tester")
                assert not ChainLink.objects.filter(entry=entry).exists()
            return ChainLink.objects.filter(entry=entry).exists(), audit_chain_verify()

    linked, report = in_thread(act)
    assert linked and report.ok and report.waiting == 0


def test_audit_verify_passes_on_an_intact_chain(acme, capsys):
    with tenant_context(acme):
        audit_entry_create(action=Action.READ, actor_label="tester")
    call_command("audit_verify", schema="acme")
    assert "acme: OK" in capsys.readouterr().out


def test_audit_verify_finds_a_row_altered_behind_the_triggers_back(committed_tenant, capsys):
    tenant = committed_tenant("forgeco")

    def append() -> int:
        with tenant_context(tenant):
            entry = audit_entry_create(action=Action.READ, actor_label="tester", purpose="original")
            audit_entry_create(action=Action.READ, actor_label="tester")
            return entry.link.seq

    seq = in_thread(append)

    def forge():
        # only a superuser can do this: triggers do not fire in replica mode
        with tenant_context(tenant), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(
                "UPDATE audit_auditentry SET purpose = 'forged' WHERE id ="
                " (SELECT entry_id FROM audit_chainlink WHERE seq = %s)",
                [seq],
            )

    in_thread(forge, role="superuser")

    with pytest.raises(CommandError):
        call_command("audit_verify", schema="forgeco")
    out = capsys.readouterr().out
    assert f"forgeco: BROKEN at entry #{seq}" in out


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditentry SET purpose = 'x'",
        "DELETE FROM audit_auditentry",
        "TRUNCATE audit_auditentry",
    ],
)
def test_database_refuses_to_rewrite_the_log(acme, statement):
    with tenant_context(acme):
        audit_entry_create(action=Action.READ, actor_label="tester")
        before = AuditEntry.objects.count()
        with (
            pytest.raises(DatabaseError, match=r"append-only|permission denied"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
        assert AuditEntry.objects.count() == before


def test_each_tenant_has_its_own_chain(acme, globex):
    with tenant_context(acme):
        audit_entry_create(action=Action.READ, actor_label="acme-only")
    with tenant_context(globex):
        assert not AuditEntry.objects.filter(actor_label="acme-only").exists()
        assert audit_chain_verify().ok


def test_audit_page_lists_entries_and_filters_by_action(owner, acme):
    with tenant_context(acme):
        audit_entry_create(action=Action.EXPORT, actor_label="exporter")
    page = owner.get(reverse("audit:entries"), {"action": Action.EXPORT})
    rows = list(page.context["page"])
    assert rows and all(row.action == Action.EXPORT for row in rows)
    assert "exporter" in page.content.decode()


def test_audit_page_query_count_does_not_grow_with_rows(owner, acme, django_assert_max_num_queries):
    with tenant_context(acme):
        for _ in range(60):
            audit_entry_create(action=Action.READ, actor_label="bulk")
    # the same queries for 1 or 50 rows: session, user, device, the page's labels (users,
    # purposes), count, entries, the last checkpoint and the chain head, the session saved
    with django_assert_max_num_queries(18):
        owner.get(reverse("audit:entries"))
