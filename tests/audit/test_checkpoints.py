"""Signed checkpoints: a chain rebuilt by someone with database access no longer matches them."""

import hashlib
import ipaddress
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django_tenants.utils import schema_context, tenant_context

import config.celery
from audit import signing
from audit.models import Action, AuditEntry, ChainLink, Checkpoint, UnlinkedEntry
from audit.selectors import (
    _walk,
    audit_chain_verify,
    checkpoint_signature_valid,
)
from audit.services import (
    GENESIS_HASH,
    audit_chain_link,
    audit_checkpoint_take,
    audit_entry_create,
    checkpoint_message,
    detail_canonical,
    entry_canonical,
    entry_digest,
    hashed_fields,
)
from audit.tasks import checkpoint_chain
from tests.conftest import in_thread

VARIED = [
    {"actor_label": "Çağrı Öztürk", "purpose": "İade başvurusu #42", "detail": {}},
    {
        "actor_label": 'quote " and back\\slash',
        "purpose": "tab\there, line\nbreak, \u2028 separator, emoji 🙂",
        "detail": {"z": [1, 2.5, None, True], "a": {"ş": "ğüİı", "nested": {"k": [{}]}}},
    },
    {"actor_label": "system", "purpose": "", "detail": {"event": "lookup", "n": 10**20}},
    {"actor_label": "\x01\x1f\x7f control", "purpose": "<>&'", "detail": {"": "", "1": -0.0}},
]


def _entry(*, at: datetime, ip: str | None, actor_id: int | None, **fields) -> AuditEntry:
    entry = AuditEntry.objects.create(
        at=at,
        actor_id=actor_id,
        action=Action.READ,
        object_type="subjects.DataSubject",
        object_id="7",
        subject_ref="3f2a9c1e-0000-4000-8000-000000000001",
        ip_address=ip,
        **fields,
    )
    UnlinkedEntry.objects.create(entry=entry)
    return entry


def test_the_walk_and_the_builder_write_byte_for_byte_what_entry_digest_hashes(acme):
    times = [
        datetime(2026, 3, 1, 9, 30, 0, tzinfo=UTC),  # no microseconds: isoformat omits them
        datetime(2026, 3, 1, 9, 30, 0, 120, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 7, 4, 0, 0, 1, 500000, tzinfo=UTC),
    ]
    ips = ["10.1.2.3", None, "2001:db8::1", "::1"]
    with tenant_context(acme):
        entries = [
            _entry(at=at, ip=ip, actor_id=[None, 3, 2**40, 1][n], **VARIED[n])
            for n, (at, ip) in enumerate(zip(times, ips, strict=True))
        ]
        audit_chain_link()

        for entry in entries:
            entry = AuditEntry.objects.select_related("link").get(pk=entry.pk)
            link = entry.link
            built = entry_canonical(
                seq=link.seq,
                at=entry.at.isoformat(),
                prev_hash=link.prev_hash,
                detail=detail_canonical(entry.detail),
                **{key: value for key, value in hashed_fields(entry).items() if key != "detail"},
            )
            payload = {
                "seq": link.seq,
                "at": entry.at.isoformat(),
                "prev_hash": link.prev_hash,
                **hashed_fields(entry),
            }
            expected = json.dumps(
                payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            )
            assert built == expected
            assert hashlib.sha256(built.encode()).hexdigest() == link.entry_hash
            assert link.entry_hash == entry_digest(
                seq=link.seq,
                at=entry.at.isoformat(),
                prev_hash=link.prev_hash,
                fields=hashed_fields(entry),
            )
        # the walk, which reads the same fields back through SQL, agrees with every hash,
        # whatever the session's date style and time zone
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL DateStyle = 'SQL, DMY'")
            cursor.execute("SET LOCAL TimeZone = 'Europe/Istanbul'")
        assert _walk(set()).broken_seq is None and audit_chain_verify().ok


def test_ip_addresses_come_back_from_the_database_as_django_stores_them(acme):
    with tenant_context(acme):
        entry = _entry(at=datetime(2026, 1, 1, tzinfo=UTC), ip="2001:DB8::1", actor_id=None)
        entry.refresh_from_db()
    assert entry.ip_address == str(ipaddress.ip_address("2001:db8::1"))


def test_a_checkpoint_signs_the_chain_head_with_the_published_key(acme):
    with tenant_context(acme):
        audit_entry_create(action=Action.READ, actor_label="tester")  # waits for its link
        checkpoint = audit_checkpoint_take(taken_by="tester")
        head = ChainLink.objects.order_by("-seq").first()
    assert (checkpoint.schema_name, checkpoint.seq) == ("acme", head.seq)
    assert checkpoint.entry_hash == head.entry_hash

    pem = Client(HTTP_HOST="localhost").get(reverse("signing_key", urlconf="config.urls_public"))
    assert pem.status_code == 200 and pem["Content-Type"].startswith("text/plain")
    published = load_pem_public_key(pem.content)
    message = checkpoint_message(
        schema_name="acme",
        seq=checkpoint.seq,
        entry_hash=checkpoint.entry_hash,
        signed_at=checkpoint.signed_at.isoformat(),
        taken_by="tester",
        key_id=checkpoint.key_id,
    )
    published.verify(bytes.fromhex(checkpoint.signature), message)  # raises if it does not hold


def test_the_landing_page_links_the_public_key_with_its_fingerprint(db):
    page = Client(HTTP_HOST="localhost").get("/").content.decode()
    assert signing.fingerprint() in page
    assert reverse("signing_key", urlconf="config.urls_public") in page


def test_a_controller_host_does_not_serve_the_public_key(acme):
    assert Client(HTTP_HOST=acme.host).get("/audit/signing-key.pem").status_code == 404


def test_checkpoints_are_kept_in_the_public_schema_only(acme, globex):
    with connection.cursor() as cursor:
        cursor.execute("SELECT schemaname FROM pg_tables WHERE tablename = 'audit_checkpoint'")
        assert [row[0] for row in cursor.fetchall()] == ["public"]


def test_a_checkpoint_with_a_forged_signature_breaks_verification(acme):
    with tenant_context(acme):
        audit_chain_link()
        head = ChainLink.objects.order_by("-seq").first()
        with schema_context("public"):
            # the runtime role may insert: nobody without the key can make a valid one
            Checkpoint.objects.create(
                schema_name="acme",
                seq=head.seq,
                entry_hash=head.entry_hash,
                signed_at=datetime(2026, 1, 1, tzinfo=UTC),
                taken_by="forger",
                key_id=signing.key_id(),
                signature="00" * 64,
            )
        report = audit_chain_verify()
    assert not report.ok and report.broken_seq == head.seq
    assert "no valid signature" in report.reason


def _append(tenant, purposes: list[str]) -> list[int]:
    with tenant_context(tenant):
        return [
            audit_entry_create(action=Action.READ, actor_label="tester", purpose=purpose).link.seq
            for purpose in purposes
        ]


def _rebuild(tenant, seq: int) -> None:
    """What someone with database access does: alter an entry and recompute every link after it."""
    with tenant_context(tenant), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # triggers stay silent
        cursor.execute(
            "UPDATE audit_auditentry SET purpose = 'forged' WHERE id ="
            " (SELECT entry_id FROM audit_chainlink WHERE seq = %s)",
            [seq],
        )
        prev = GENESIS_HASH
        for link in ChainLink.objects.select_related("entry").order_by("seq"):
            digest = entry_digest(
                seq=link.seq,
                at=link.entry.at.isoformat(),
                prev_hash=prev,
                fields=hashed_fields(link.entry),
            )
            cursor.execute(
                "UPDATE audit_chainlink SET prev_hash = %s, entry_hash = %s WHERE id = %s",
                [prev, digest, link.pk],
            )
            prev = digest


def test_a_chain_rebuilt_from_scratch_passes_the_walk_but_not_its_checkpoint(
    committed_tenant, capsys
):
    tenant = committed_tenant("rebuildco")
    first, *_ = in_thread(_append, tenant, ["original", "second", "third"])
    checkpoint = in_thread(lambda: _checkpoint(tenant))
    assert any(
        json.loads(line)["signature"] == checkpoint.signature
        for line in settings.AUDIT_CHECKPOINT_LOG.read_text().splitlines()
    )
    call_command("audit_verify", schema="rebuildco")
    assert "rebuildco: OK" in capsys.readouterr().out

    in_thread(_rebuild, tenant, first, role="superuser")

    with tenant_context(tenant):
        assert _walk(set()).broken_seq is None  # every hash recomputed: the walk alone passes
    with pytest.raises(CommandError):
        call_command("audit_verify", schema="rebuildco")
    out = capsys.readouterr().out
    assert f"rebuildco: BROKEN at entry #{checkpoint.seq}: entry differs from the checkpoint" in out


def _checkpoint(tenant) -> Checkpoint:
    with tenant_context(tenant):
        return audit_checkpoint_take(taken_by="tester")


def test_a_checkpoint_deleted_from_the_database_still_counts_from_the_log_file(committed_tenant):
    tenant = committed_tenant("wipeco")
    first, *_ = in_thread(_append, tenant, ["original", "second"])
    in_thread(lambda: _checkpoint(tenant))

    def erase_checkpoints():
        with schema_context("public"), connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            cursor.execute("DELETE FROM audit_checkpoint WHERE schema_name = 'wipeco'")
            cursor.execute("SET session_replication_role = DEFAULT")

    in_thread(_rebuild, tenant, first, role="superuser")
    in_thread(erase_checkpoints, role="superuser")

    with tenant_context(tenant):
        report = audit_chain_verify()
    assert not report.ok and "differs from the checkpoint" in report.reason


def test_a_chain_cut_short_fails_against_its_checkpoint(committed_tenant):
    tenant = committed_tenant("cutco")
    seqs = in_thread(_append, tenant, ["one", "two", "three"])
    in_thread(lambda: _checkpoint(tenant))

    def cut():
        with tenant_context(tenant), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(
                "WITH gone AS (DELETE FROM audit_chainlink WHERE seq >= %s RETURNING entry_id)"
                " DELETE FROM audit_auditentry WHERE id IN (SELECT entry_id FROM gone)",
                [seqs[1]],
            )

    in_thread(cut, role="superuser")

    with tenant_context(tenant):
        report = audit_chain_verify()
    assert not report.ok and report.broken_seq == seqs[-1]
    assert f"the chain ends at #{seqs[0]}" in report.reason


def test_the_nightly_task_links_waiting_entries_then_signs_the_head(acme):
    with tenant_context(acme):
        entry = audit_entry_create(action=Action.READ, actor_label="night owl")
    result = checkpoint_chain(schema_name="acme")
    with tenant_context(acme):
        assert ChainLink.objects.get(entry=entry).seq == result["seq"]
    with schema_context("public"):
        assert checkpoint_signature_valid(Checkpoint.objects.get(pk=result["id"]))


def test_checkpoints_are_taken_nightly_through_the_dispatcher():
    schedule = config.celery.app.conf.beat_schedule.values()
    assert {"task": "tenants.tasks.fan_out", "args": ("audit.tasks.checkpoint_chain",)} in [
        {"task": entry["task"], "args": entry["args"]} for entry in schedule
    ]


def test_the_checkpoint_command_signs_the_schema_asked_for(acme, capsys):
    call_command("audit_checkpoint", schema="acme")
    out = capsys.readouterr().out
    with schema_context("public"):
        checkpoint = Checkpoint.objects.filter(schema_name="acme").latest("id")
    assert f"acme: signed #{checkpoint.seq}" in out
    assert checkpoint.taken_by == "manage.py audit_checkpoint"


@pytest.mark.parametrize("persona", ["owner", "auditor"])
def test_admins_and_auditors_sign_a_checkpoint_from_the_log_page(persona, request, acme):
    client = request.getfixturevalue(persona)
    response = client.post(reverse("audit:checkpoint"), follow=True)
    with schema_context("public"):
        checkpoint = Checkpoint.objects.filter(schema_name="acme").latest("id")
    assert checkpoint.taken_by == persona
    page = response.content.decode()
    assert f"#{checkpoint.seq}" in page and "chain-status" in page
    assert response.context["status"].ok


def test_officers_cannot_sign_checkpoints(colleague):
    assert colleague.post(reverse("audit:checkpoint")).status_code == 403


def test_signing_a_checkpoint_needs_a_post(owner):
    assert owner.get(reverse("audit:checkpoint")).status_code == 405


def test_an_entry_taken_out_of_the_chain_is_reported(committed_tenant):
    tenant = committed_tenant("strayco")
    *_, last = in_thread(_append, tenant, ["one", "two"])

    def unlink_last():
        with tenant_context(tenant), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("DELETE FROM audit_chainlink WHERE seq = %s RETURNING entry_id", [last])
            return cursor.fetchone()[0]

    entry_id = in_thread(unlink_last, role="superuser")

    with tenant_context(tenant):
        report = audit_chain_verify()
    assert (report.broken_seq, report.reason) == (last, f"entry {entry_id} is in no link")
