"""Destruction minutes: what they say, their chain and signature, downloads, isolation, purge."""

import json
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from config.celery import app
from config.kvkk import DestructionMethod, RetentionEvent
from retention import minutes_chain
from retention.minutes import minutes_chain_verify, minutes_expire, minutes_record
from retention.models import (
    DestructionMinutes,
    DestructionRun,
    DestructionTarget,
    RetentionRule,
)
from retention.tasks import minutes_expire_task
from subjects.models import DataCategory
from tenants.models import Tenant
from tests.conftest import in_thread, portal_client
from tests.factories import staff_create

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "minutes_verify.py"
DIGEST = "9f" * 32


def _category(code: str = "invoices", name: str = "Fatura bilgileri") -> DataCategory:
    category, _ = DataCategory.objects.get_or_create(code=code, defaults={"name": name})
    return category


def _run(*, items: int = 120, held: int = 3, reason: str = "Periyodik imha 2026/2", **extra):
    category = _category()
    RetentionRule.objects.get_or_create(
        category=category,
        defaults={
            "period": 10,
            "event": RetentionEvent.COLLECTED,
            "method": DestructionMethod.DESTROY,
            "source": RetentionRule.Source.STATUTE,
            "legal_reference": "6102 sayılı TTK m. 82",
        },
    )
    finished = timezone.now()
    fields = {
        "kind": DestructionRun.Kind.PERIODIC,
        "status": DestructionRun.Status.DONE,
        "reason": reason,
        "counts": {
            category.code: {
                "method": DestructionMethod.DESTROY,
                "items": items,
                "held": held,
                "subjects": 40,
            }
        },
        "held": [{"hold": 7, "scope": "reference", "reason": "Dava 2026/15", "items": held}],
        "started_at": finished - timedelta(minutes=2),
        "finished_at": finished,
        **extra,
    }
    return DestructionRun.objects.create(**fields)


def _chain(count: int, **kwargs) -> list[DestructionMinutes]:
    return [
        minutes_record(run=_run(items=100 + n, **kwargs), affected_ids_digest=DIGEST)
        for n in range(count)
    ]


# --- What the minutes say -------------------------------------------------------------------


@override_settings(PORTAL_BACKUP_RETENTION_DAYS=30)
def test_minutes_name_the_controller_the_approver_the_rule_the_counts_and_the_backup_expiry(acme):
    with tenant_context(acme):
        approver = User.objects.get(username="owner")
        approved_at = timezone.now() - timedelta(hours=1)
        run = _run(approved_by=approver, approved_at=approved_at)
        body = minutes_record(run=run, affected_ids_digest=DIGEST).body

    assert body["controller"] == {"schema": "acme", "name": "Acme Perakende A.Ş."}
    assert body["run"]["uuid"] == str(run.uuid)
    assert body["approval"]["by"]["username"] == "owner"
    assert body["approval"]["at"] == approved_at.isoformat()
    assert body["approval"]["automatic"] is False
    [row] = body["applied"]
    assert row["category_name"] == "Fatura bilgileri"
    assert row["method"] == "destroy" and row["items"] == 120 and row["held"] == 3
    assert row["rule"]["legal_reference"] == "6102 sayılı TTK m. 82"
    assert body["held"][0]["reason"] == "Dava 2026/15"
    assert body["affected_ids_digest"] == DIGEST
    finished = timezone.localtime(run.finished_at).date()
    assert body["backups_expire_on"] == (finished + timedelta(days=30)).isoformat()
    assert body["keep_until"] == finished.replace(year=finished.year + 3).isoformat()


def test_an_automatic_run_says_so_and_a_resumed_run_gets_no_second_record(acme):
    with tenant_context(acme):
        run = _run(executed_automatically=True)
        first = minutes_record(run=run, affected_ids_digest=DIGEST)
        again = minutes_record(run=run, affected_ids_digest=DIGEST)
        assert again.pk == first.pk and DestructionMinutes.objects.count() == 1
    assert first.body["approval"] == {"automatic": True, "by": None, "at": None}


# --- The chain ------------------------------------------------------------------------------


def test_minutes_verify_passes_on_an_intact_chain(acme, capsys):
    with tenant_context(acme):
        records = _chain(3)
    assert [record.seq for record in records] == [1, 2, 3]
    assert records[1].prev_hash == records[0].entry_hash
    call_command("minutes_verify", schema="acme")
    assert "acme: OK, 3 minutes (#1–#3)" in capsys.readouterr().out


def test_the_database_refuses_to_change_minutes_or_remove_them_before_their_time(acme):
    with tenant_context(acme):
        _chain(1)
        for statement in (
            "UPDATE retention_destructionminutes SET body = '{}'::jsonb",
            "DELETE FROM retention_destructionminutes",
            "TRUNCATE retention_destructionminutes",
        ):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
        assert DestructionMinutes.objects.get().body["totals"]["items"] == 100


class _Rollback(Exception):
    def __init__(self, outcome):
        self.outcome = outcome


@pytest.fixture
def chain_tenant(committed_tenant):
    """A controller of this module's own with four committed minutes (seq 1–4)."""
    tenant = Tenant.objects.filter(schema_name="minutesco").first()
    if tenant is None:
        tenant = committed_tenant("minutesco")

        def write():
            with tenant_context(tenant):
                _chain(4)

        in_thread(write)
    return tenant


def _verify_after(tenant: Tenant, statement: str, params=()) -> tuple[str, bool]:
    """Change the committed chain behind the triggers' back (only a superuser can), run
    minutes_verify on it, and roll the change back: the command's output, and whether it failed."""

    def act():
        with tenant_context(tenant):
            try:
                with transaction.atomic():
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL session_replication_role = replica")
                        cursor.execute(statement, params)
                    out = StringIO()
                    try:
                        call_command("minutes_verify", schema=tenant.schema_name, stdout=out)
                    except CommandError:
                        raise _Rollback((out.getvalue(), True)) from None
                    raise _Rollback((out.getvalue(), False))
            except _Rollback as rollback:
                return rollback.outcome

    return in_thread(act, role="superuser")


def test_the_untouched_chain_of_the_tamper_tests_verifies(chain_tenant):
    out, failed = _verify_after(chain_tenant, "SELECT 1")
    assert not failed and "minutesco: OK, 4 minutes" in out


@pytest.mark.parametrize(
    ("statement", "seq", "why"),
    [
        (
            "UPDATE retention_destructionminutes SET body = jsonb_set(body, '{totals,items}', '1')"
            " WHERE seq = 2",
            2,
            "entry_hash does not match the body",
        ),
        (
            "UPDATE retention_destructionminutes SET entry_hash = repeat('a', 64) WHERE seq = 3",
            3,
            "entry_hash does not match the body",
        ),
        (
            "UPDATE retention_destructionminutes SET signature ="
            " (SELECT signature FROM retention_destructionminutes WHERE seq = 1) WHERE seq = 2",
            2,
            "signature does not verify",
        ),
        ("DELETE FROM retention_destructionminutes WHERE seq = 3", 3, "record is missing"),
        ("DELETE FROM retention_destructionminutes WHERE seq = 1", 1, "record is missing"),
    ],
    ids=["body", "hash", "signature", "middle-record", "first-record"],
)
def test_minutes_verify_finds_the_record_changed_behind_the_triggers_back(
    chain_tenant, statement, seq, why
):
    out, failed = _verify_after(chain_tenant, statement)
    assert failed
    assert f"minutesco: BROKEN at minutes #{seq}: {why}" in out


def test_a_body_rewritten_with_a_fresh_hash_still_fails_on_its_signature(chain_tenant):
    with tenant_context(chain_tenant):
        record = DestructionMinutes.objects.get(seq=2)
    body = {**record.body, "reason": "başka bir gerekçe"}
    forged = minutes_chain.minutes_hash(seq=2, prev_hash=record.prev_hash, body=body)
    out, failed = _verify_after(
        chain_tenant,
        "UPDATE retention_destructionminutes SET body = %s::jsonb, entry_hash = %s WHERE seq = 2",
        [json.dumps(body), forged],
    )
    assert failed and "BROKEN at minutes #2: signature does not verify" in out


# --- Downloads and offline verification -------------------------------------------------------


def _public_key_file(tmp_path: Path) -> Path:
    """The key as the platform host publishes it, saved as a reader would."""
    pem = Client(HTTP_HOST="localhost").get(reverse("signing_key", urlconf="config.urls_public"))
    assert pem.status_code == 200
    key_file = tmp_path / "signing-key.pem"
    key_file.write_bytes(pem.content)
    return key_file


def _script(*args: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-I", str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )


def test_a_downloaded_record_verifies_with_the_public_key_alone(
    acme, owner, tmp_path, django_db_blocker
):
    with tenant_context(acme):
        _chain(2)
    response = owner.get(reverse("retention:minutes_json", kwargs={"seq": 2}))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="imha-tutanagi-acme-00002.json"'
    document = json.loads(response.content)
    for field in ("seq", "body", "prev_hash", "entry_hash", "key_id", "signature", "algorithm"):
        assert field in document
    assert document["format"] == "kvkk-destruction-minutes/1"
    assert "SHA-256" in document["algorithm"]["entry_hash"]
    download = tmp_path / "minutes.json"
    download.write_bytes(response.content)
    key_file = _public_key_file(tmp_path)

    with django_db_blocker.block():  # the public key and the file are all it takes
        out = StringIO()
        call_command("minutes_verify", file=str(download), public_key=str(key_file), stdout=out)
    assert "minutes.json: OK, 1 minutes (#2–#2)" in out.getvalue()
    result = _script(download, key_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 1 minutes (#2–#2)")


def test_a_downloaded_record_changed_afterwards_fails_offline(acme, owner, tmp_path):
    with tenant_context(acme):
        _chain(1)
    document = json.loads(owner.get(reverse("retention:minutes_json", kwargs={"seq": 1})).content)
    document["body"]["totals"]["items"] = 5
    download = tmp_path / "changed.json"
    download.write_text(json.dumps(document), encoding="utf-8")
    key_file = _public_key_file(tmp_path)

    with pytest.raises(CommandError, match="BROKEN at minutes #1: entry_hash does not match"):
        call_command("minutes_verify", file=str(download), public_key=str(key_file))
    result = _script(download, key_file)
    assert result.returncode == 1
    assert "BROKEN at minutes #1: entry_hash does not match the body" in result.stdout


def test_the_whole_chain_downloads_and_a_record_taken_out_of_it_is_found_offline(
    acme, auditor, tmp_path
):
    with tenant_context(acme):
        _chain(4)
    response = auditor.get(reverse("retention:minutes_chain_json"))
    document = json.loads(response.content)
    assert [record["seq"] for record in document["records"]] == [1, 2, 3, 4]
    key_file = _public_key_file(tmp_path)
    whole = tmp_path / "chain.json"
    whole.write_bytes(response.content)
    assert _script(whole, key_file).returncode == 0

    document["records"].pop(2)
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps(document), encoding="utf-8")
    result = _script(cut, key_file)
    assert result.returncode == 1 and "BROKEN at minutes #3: record is missing" in result.stdout
    with pytest.raises(CommandError, match="BROKEN at minutes #3: record is missing"):
        call_command("minutes_verify", file=str(cut), public_key=str(key_file))


def test_another_key_does_not_verify_a_record(acme, owner, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    with tenant_context(acme):
        _chain(1)
    download = tmp_path / "minutes.json"
    download.write_bytes(owner.get(reverse("retention:minutes_json", kwargs={"seq": 1})).content)
    other = tmp_path / "other.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    result = _script(download, other)
    assert result.returncode == 1 and "signature does not verify" in result.stdout


def test_the_minutes_pdf_is_a_turkish_imha_tutanagi_with_the_counts(acme, owner, tmp_path):
    with tenant_context(acme):
        _chain(1, reason="Başvuru BSV-2026-000123")
    response = owner.get(reverse("retention:minutes_pdf", kwargs={"seq": 1}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="imha-tutanagi-acme-00001.pdf"'
    pdf = tmp_path / "minutes.pdf"
    pdf.write_bytes(response.content)
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "İmha Tutanağı" in text
    assert "Acme Perakende A.Ş." in text
    assert "Fatura bilgileri" in text
    assert "Başvuru BSV-2026-000123" in text
    assert "6102 sayılı TTK m. 82" in text
    assert "Yok etme" in text and "100 40 3" in text  # method; items, subjects, held
    assert "Dava 2026/15" in text


# --- The pages ------------------------------------------------------------------------------


def test_the_list_shows_newest_first_and_the_detail_reads_in_turkish(acme, owner):
    with tenant_context(acme):
        approver = User.objects.get(username="owner")
        _chain(2, approved_by=approver, approved_at=timezone.now())
    page = owner.get(reverse("retention:minutes_list")).content.decode()
    assert page.index('href="/retention/minutes/2/"') < page.index('href="/retention/minutes/1/"')
    assert "Zincir sağlam" in page

    detail = owner.get(reverse("retention:minutes_detail", kwargs={"seq": 2})).content.decode()
    assert "Fatura bilgileri" in detail
    assert "Yok etme" in detail  # the method's Turkish label
    assert "Periyodik imha" in detail
    assert "Dava 2026/15" in detail
    assert "İmza geçerli" in detail
    assert reverse("retention:minutes_pdf", kwargs={"seq": 2}) in detail
    assert reverse("retention:minutes_json", kwargs={"seq": 2}) in detail


def test_the_list_pages_and_its_queries_do_not_grow_with_rows(
    acme, owner, django_assert_max_num_queries
):
    with tenant_context(acme):
        _chain(30)
    with django_assert_max_num_queries(25):
        first = owner.get(reverse("retention:minutes_list")).content.decode()
    assert 'href="/retention/minutes/30/"' in first and 'href="/retention/minutes/5/"' not in first
    second = owner.get(reverse("retention:minutes_list") + "?page=2").content.decode()
    assert 'href="/retention/minutes/5/"' in second


@pytest.mark.parametrize("persona", ["colleague", "auditor"])
def test_every_staff_role_reads_the_minutes(acme, persona, request):
    with tenant_context(acme):
        _chain(1)
    client = request.getfixturevalue(persona)
    for name in ("retention:minutes_list",):
        assert client.get(reverse(name)).status_code == 200
    for name in ("retention:minutes_detail", "retention:minutes_pdf", "retention:minutes_json"):
        assert client.get(reverse(name, kwargs={"seq": 1})).status_code == 200


def test_another_controllers_minutes_are_unreachable(acme, globex, outsider):
    with tenant_context(acme):
        _chain(1, reason="Acme'nin imhası")
    for name in ("retention:minutes_detail", "retention:minutes_pdf", "retention:minutes_json"):
        assert outsider.get(reverse(name, kwargs={"seq": 1})).status_code == 404
    assert "Acme" not in outsider.get(reverse("retention:minutes_list")).content.decode()
    assert "Acme" not in outsider.get(reverse("retention:minutes_chain_json")).content.decode()
    with tenant_context(globex):
        assert not DestructionMinutes.objects.exists()


# --- Their own retention ---------------------------------------------------------------------


def test_the_purge_removes_minutes_past_three_years_and_the_chain_still_verifies(acme, capsys):
    four_years_ago = timezone.now() - timedelta(days=4 * 366)
    with tenant_context(acme):
        for n in range(2):
            minutes_record(run=_run(items=n), affected_ids_digest=DIGEST, now=four_years_ago)
        young = _chain(2)
        outcome = minutes_expire()
        assert outcome["minutes"] == 2
        assert list(DestructionMinutes.objects.order_by("seq").values_list("seq", flat=True)) == [
            3,
            4,
        ]
        report = minutes_chain_verify()
        assert report.ok and report.records == 2 and report.purge.purged_through_seq == 2
        assert young[0].prev_hash == report.purge.anchor_hash
        after = minutes_record(run=_run(), affected_ids_digest=DIGEST)
        assert after.seq == 5 and minutes_chain_verify().ok
    call_command("minutes_verify", schema="acme")
    assert "acme: OK, 3 minutes (#3–#5), purged through #2" in capsys.readouterr().out


def test_the_purge_keeps_every_record_younger_than_three_years(acme):
    with tenant_context(acme):
        _chain(
            2,
        )
        two_years_ago = timezone.now() - timedelta(days=2 * 365)
        minutes_record(run=_run(), affected_ids_digest=DIGEST, now=two_years_ago)
        assert minutes_expire() == {"minutes": 0, "targets": 0}
        assert DestructionMinutes.objects.count() == 3
        assert minutes_chain_verify().ok


def test_a_chain_emptied_by_the_purge_continues_from_its_anchor(acme):
    with tenant_context(acme):
        old = minutes_record(
            run=_run(), affected_ids_digest=DIGEST, now=timezone.now() - timedelta(days=1200)
        )
        assert minutes_expire()["minutes"] == 1
        assert minutes_chain_verify().ok
        new = minutes_record(run=_run(), affected_ids_digest=DIGEST)
    assert (new.seq, new.prev_hash) == (2, old.entry_hash)


def test_the_purge_drops_the_targets_of_finished_runs_only(acme):
    with tenant_context(acme):
        done = _run()
        minutes_record(run=done, affected_ids_digest=DIGEST)
        waiting = _run(status=DestructionRun.Status.DRY_RUN)
        for run in (done, waiting):
            DestructionTarget.objects.bulk_create(
                DestructionTarget(run=run, item_id=n, subject_id=n, category_id=1, method="destroy")
                for n in range(1, 6)
            )
        assert minutes_expire() == {"minutes": 0, "targets": 5}
        assert list(DestructionTarget.objects.values_list("run_id", flat=True).distinct()) == [
            waiting.pk
        ]


def test_a_daily_task_fanned_out_per_controller_runs_the_purge(acme):
    entry = next(
        entry
        for entry in app.conf.beat_schedule.values()
        if entry["args"] == ("retention.tasks.minutes_expire",)
    )
    assert entry["task"] == "tenants.tasks.fan_out"
    with tenant_context(acme):
        minutes_record(
            run=_run(), affected_ids_digest=DIGEST, now=timezone.now() - timedelta(days=1200)
        )
    assert minutes_expire_task(schema_name="acme") == {
        "schema": "acme",
        "minutes": 1,
        "targets": 0,
    }
    with tenant_context(acme):
        assert not DestructionMinutes.objects.exists()


def test_the_record_page_shows_a_record_changed_behind_the_triggers_back(committed_tenant):
    tenant = committed_tenant("brokenminutesco")

    def write_and_forge():
        with tenant_context(tenant):
            staff_create(schema=tenant.schema_name, username="reader", role=Role.AUDITOR)
            _chain(3)

    def forge():
        with tenant_context(tenant), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(
                "UPDATE retention_destructionminutes SET body = jsonb_set(body, '{reason}',"
                " '\"değiştirildi\"') WHERE seq = 2"
            )

    in_thread(write_and_forge)
    in_thread(forge, role="superuser")
    reader = portal_client(tenant, "reader")

    changed = reader.get(reverse("retention:minutes_detail", kwargs={"seq": 2})).content.decode()
    assert "İçerik özetiyle uyuşmuyor" in changed
    assert "Zincir #2 numaralı kayıtta bozuk" in changed
    intact = reader.get(reverse("retention:minutes_detail", kwargs={"seq": 1})).content.decode()
    assert "İçerik özetiyle uyuşuyor" in intact and "İmza geçerli" in intact
    listing = reader.get(reverse("retention:minutes_list")).content.decode()
    assert "Zincir bozuk" in listing and "#2 numaralı kayıtta bozuk" in listing


def test_minutes_verify_visits_every_controller_without_schema(acme, capsys):
    with tenant_context(acme):
        _chain(1)
    try:
        call_command("minutes_verify")
    except CommandError as failure:  # a controller another test broke on purpose, not ours
        assert "acme" not in str(failure) and "globex" not in str(failure)
    out = capsys.readouterr().out
    assert "acme: OK, 1 minutes (#1–#1)" in out and "globex: OK, 0 minutes" in out


def test_minutes_verify_explains_a_file_it_cannot_read(tmp_path):
    download = tmp_path / "minutes.json"
    download.write_text("not json", encoding="utf-8")
    key_file = tmp_path / "key.pem"
    key_file.write_text("not a key", encoding="utf-8")
    with pytest.raises(CommandError, match="Cannot read the file or the key"):
        call_command("minutes_verify", file=str(download), public_key=str(key_file))
    with pytest.raises(CommandError, match="--file and --public-key go together"):
        call_command("minutes_verify", file=str(download))
    assert _script(download, key_file).returncode == 2
