"""The runtime role, as web and workers connect, cannot rewrite the processing log."""

import pytest
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import schema_context, tenant_context

from audit.checks import check_runtime_role
from audit.models import Action, AuditEntry, ChainLink, Checkpoint
from audit.services import audit_chain_link, audit_checkpoint_take, audit_entry_create
from tests.conftest import in_thread

REFUSED = r"append-only|permission denied|must be (the )?owner"

STATEMENTS = [
    "UPDATE {table} SET id = id",
    "DELETE FROM {table}",
    "TRUNCATE {table}",
    "ALTER TABLE {table} DISABLE TRIGGER ALL",
    "ALTER TABLE {table} DISABLE TRIGGER USER",
]


def _refused(statement: str) -> None:
    with (
        pytest.raises(DatabaseError, match=REFUSED),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)


@pytest.mark.parametrize("statement", STATEMENTS)
@pytest.mark.parametrize("model", [AuditEntry, ChainLink])
def test_the_runtime_role_cannot_change_the_log(acme, model, statement):
    with tenant_context(acme):
        audit_entry_create(action=Action.READ, actor_label="tester")
        audit_chain_link()
        before = model.objects.count()

        _refused(statement.format(table=model._meta.db_table))

        assert model.objects.count() == before


@pytest.mark.parametrize("statement", STATEMENTS)
def test_the_runtime_role_cannot_change_checkpoints(acme, statement):
    with tenant_context(acme):
        audit_entry_create(action=Action.READ, actor_label="tester")
        audit_checkpoint_take(taken_by="tester")
    with schema_context("public"):
        before = Checkpoint.objects.count()

        _refused(statement.format(table="public.audit_checkpoint"))

        assert Checkpoint.objects.count() == before


@pytest.mark.parametrize("value", ["replica", "local"])
def test_the_runtime_role_cannot_silence_the_triggers_with_session_replication_role(acme, value):
    with tenant_context(acme):
        _refused(f"SET session_replication_role = {value}")
        _refused(f"SET LOCAL session_replication_role = {value}")
        with connection.cursor() as cursor:
            cursor.execute("SHOW session_replication_role")
            assert cursor.fetchone()[0] == "origin"


def test_the_role_check_passes_for_the_runtime_role(db):
    assert check_runtime_role(databases=["default"]) == []


@pytest.mark.parametrize(
    ("role", "problem"),
    [
        ("superuser", "the database role is a superuser"),
        ("owner", "the database role owns the processing log (audit_auditentry)"),
    ],
)
def test_the_role_check_refuses_a_superuser_and_the_owner(db, role, problem):
    errors = in_thread(check_runtime_role, databases=["default"], role=role)
    assert errors and {error.id for error in errors} == {"audit.E001"}
    assert f"Refusing to serve: {problem}." in [error.msg for error in errors]
