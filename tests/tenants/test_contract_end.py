"""Contract end: read-only grace period, data return, then destruction with a signed certificate."""

import base64
import io
import json
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

import config.celery
from accounts.models import User
from audit import signing
from audit.models import Action, AuditEntry
from audit.tasks import verify_chain
from config.errors import PortalError
from subjects.models import ControllerKey, SubjectDataKey
from tenants import contract
from tenants.models import ContractExport, DestructionCertificate, Domain, Tenant
from tenants.services import tenant_set_status
from tenants.tasks import contract_export, contract_scan
from tests.conftest import in_thread, portal_client
from tests.subjects.conftest import ApiClient, make_token, subject_record
from transfers.models import Transfer

PUBLIC = "config.urls_public"
SCAN = "tenants.tasks.contract_scan"
TCKN = "10000000146"


def _interaction(content: bytes = b"%PDF gizli dilekce") -> dict:
    return {
        "kind": "ticket",
        "purpose": "complaints",
        "occurred_at": "2025-05-05T12:00:00+03:00",
        "text": "Müşteri iade istedi",
        "attachment": {"name": "dilekçe.pdf", "content_base64": base64.b64encode(content).decode()},
    }


def _add_subject(api: ApiClient) -> str:
    response = api.post(reverse("api:subject_upsert"), subject_record(TCKN))
    assert response.status_code in (200, 201), response.content
    uuid = response.json()["subjects"][0]
    created = api.post(reverse("api:interactions", args=[uuid]), _interaction())
    assert created.status_code == 201, created.content
    return uuid


def _end_contract(tenant: Tenant, *, days_ago: int = 0) -> Tenant:
    return tenant_set_status(
        tenant=tenant,
        status=Tenant.Status.CONTRACT_ENDED,
        changed_by=None,
        now=timezone.now() - timedelta(days=days_ago),
    )


def _media_files(schema: str) -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / schema
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@pytest.fixture
def api(acme) -> ApiClient:
    return ApiClient(acme.host, make_token(acme))


@pytest.fixture
def exports_cleaned():
    yield
    for path in _media_files("acme"):
        if "exports" in path.parts:
            path.unlink()


# --- the grace period: read-only --------------------------------------------------------


def test_a_platform_admin_ends_the_contract_and_the_portal_turns_read_only(owner, acme, api):
    # given a working portal
    assert owner.get(reverse("accounts:staff")).status_code == 200

    # when a platform admin marks the contract as ended in Django admin
    root = portal_client(None, "root")
    response = root.post(
        reverse("admin:tenants_tenant_changelist", urlconf=PUBLIC),
        {"action": "end_contract", "_selected_action": [acme.pk]},
    )
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.status == Tenant.Status.CONTRACT_ENDED
    assert acme.contract_ended_at is not None
    until = acme.contract_ended_at + timedelta(days=settings.PORTAL_CONTRACT_GRACE_DAYS)

    # then every page still opens, with a banner saying until when the data is kept
    page = owner.get(reverse("accounts:staff"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "colleague" in body
    assert "salt okunur" in body
    assert timezone.localtime(until).strftime("%Y") in body

    # but a change is refused with the same explanation
    refused = owner.post(
        reverse("accounts:staff_invite"),
        {"username": "yeni", "email": "yeni@acme.com.tr", "role": "auditor"},
    )
    assert refused.status_code == 403
    assert "salt okunur" in refused.content.decode()
    with schema_context("acme"):
        assert not User.objects.filter(username="yeni").exists()

    # and so is a write through the API, as JSON
    api_refused = api.post(reverse("api:subject_upsert"), subject_record(TCKN))
    assert api_refused.status_code == 403
    assert api_refused.json()["error"]["code"] == "contract_ended"
    assert api.post(reverse("api:lookup"), {"value": TCKN}).status_code == 200  # a posted read

    # reads that are posted (a search by identifier) still work
    assert owner.post(reverse("subjects:index"), {"q": TCKN}).status_code == 200

    # while logging out still works
    assert owner.post(reverse("accounts:logout")).status_code == 302


def test_the_contract_ends_by_itself_once_its_end_date_has_passed(acme, globex):
    Tenant.objects.filter(pk=acme.pk).update(contract_end=timezone.localdate() - timedelta(days=1))
    Tenant.objects.filter(pk=globex.pk).update(contract_end=timezone.localdate())

    ended = contract.contracts_lapsed_end()

    assert ended == ["acme"]
    acme.refresh_from_db()
    globex.refresh_from_db()
    assert acme.is_read_only and acme.contract_ended_at is not None
    assert globex.is_operational


def test_a_read_only_controller_gets_no_background_work(acme):
    _end_contract(acme)
    assert verify_chain.apply(kwargs={"schema_name": "acme"}).get() is None


def test_the_platform_scan_runs_daily_on_the_worker_with_the_owner_role():
    entries = [e for e in config.celery.app.conf.beat_schedule.values() if e["task"] == SCAN]
    assert len(entries) == 1
    assert settings.CELERY_TASK_ROUTES[SCAN]["queue"] == settings.CELERY_PROVISIONING_QUEUE


def test_a_controller_cannot_be_set_destroyed_by_hand(acme):
    with pytest.raises(PortalError) as refused:
        tenant_set_status(tenant=acme, status=Tenant.Status.DESTROYED, changed_by=None)
    assert refused.value.code == "destroyed_only_by_scan"


# --- data return --------------------------------------------------------------------------


def test_the_controller_admin_downloads_a_full_export_during_the_grace_period(
    owner, colleague, auditor, acme, globex, api, exports_cleaned
):
    # given a subject with an attachment, and a contract that has ended
    uuid = _add_subject(api)
    _end_contract(acme)

    # when the controller admin requests the export and the worker builds it
    assert owner.post(reverse("contract:export_request")).status_code == 302
    export = ContractExport.objects.get(tenant=acme)
    assert export.status == ContractExport.Status.PENDING
    result = contract_export.apply(kwargs={"schema_name": "acme", "export_id": export.pk}).get()
    assert result["status"] == "ready"

    # then the page links it, and the ZIP holds the subject's decrypted data
    url = reverse("contract:export_download", args=[export.uuid])
    assert url in owner.get(reverse("contract:index")).content.decode()
    response = owner.get(url)
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    subjects = [json.loads(line) for line in archive.read("subjects.jsonl").splitlines()]
    mine = next(subject for subject in subjects if subject["uuid"] == uuid)
    assert mine["name"] == "Ayşe Yılmaz"
    assert mine["identifiers"]["tckn"] == TCKN
    assert mine["items"][0]["value"] == "Çiçek Sok. No:5 Kadıköy/İstanbul"
    assert mine["interactions"][0]["text"] == "Müşteri iade istedi"
    attachment = mine["interactions"][0]["attachment"]
    assert archive.read(attachment) == b"%PDF gizli dilekce"
    assert "customer_service" in archive.read("inventory.json").decode()
    assert "processing-log.csv" in archive.namelist()

    # and the export and its download are in the controller's processing log
    with schema_context("acme"):
        exported = AuditEntry.objects.filter(action=Action.EXPORT)
        assert exported.filter(detail__event="contract_export").exists()
        assert exported.filter(
            detail__event="contract_export_download", actor_label="owner"
        ).exists()
        # and in the transfer log, as an export to the controller of every subject (C6)
        logged = Transfer.objects.get(source=Transfer.Source.EXPORT)
        assert logged.recipient.is_controller and logged.subject_count >= 1

    # and nobody else asks for or downloads it: not a colleague, not the auditor, not another
    # controller
    assert colleague.post(reverse("contract:export_request")).status_code == 403
    assert auditor.get(reverse("contract:index")).status_code == 403
    assert colleague.get(url).status_code == 403
    assert auditor.get(url).status_code == 403
    outsider = portal_client(globex, "outsider")
    assert outsider.get(url).status_code == 404


def test_no_export_while_the_contract_is_in_force(owner, acme):
    response = owner.post(reverse("contract:export_request"), follow=True)
    assert "sözleşme sona erdikten sonra" in response.content.decode()
    assert not ContractExport.objects.filter(tenant=acme).exists()


# --- destruction after the grace period -----------------------------------------------------


def _seed_committed(tenant: Tenant) -> str:
    """A subject with an item and an attachment, committed (as the API writes it)."""

    def seed():
        with tenant_context(tenant):
            raw = make_token_for_first_admin()
        connection.set_schema_to_public()
        return _add_subject(ApiClient(tenant.host, raw))

    return in_thread(seed)


def make_token_for_first_admin() -> str:
    from subjects.api.auth import api_token_create
    from subjects.models import ApiToken

    _, raw = api_token_create(
        name="crm",
        scope=ApiToken.Scope.WRITE,
        created_by=User.objects.get(username="firstadmin"),
    )
    return raw


def _keys(schema: str) -> tuple[int, int]:
    return (
        ControllerKey.objects.filter(schema_name=schema).count(),
        SubjectDataKey.objects.filter(schema_name=schema).count(),
    )


def _schema_exists(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT FROM information_schema.schemata WHERE schema_name = %s)",
            [schema],
        )
        return cursor.fetchone()[0]


def _pdf_text(pdf: bytes) -> str:
    result = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60
    )
    return result.stdout.decode()


def _verify_with_public_key_alone(certificate_json: dict) -> None:
    pem = Client(HTTP_HOST="localhost").get("/audit/signing-key.pem").content
    message = json.dumps(
        certificate_json["body"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    load_pem_public_key(pem).verify(bytes.fromhex(certificate_json["signature"]), message)


@pytest.mark.worker
def test_after_the_grace_period_the_platform_scan_destroys_the_controller(
    provisioning_worker, committed_tenant, acme, globex, api
):
    # given a controller with data and an attachment file, and acme with data of its own
    tenant = committed_tenant("ctend")
    _seed_committed(tenant)
    assert _keys("ctend") == (1, 1) and len(_media_files("ctend")) == 1
    acme_keys, globex_keys = _keys("acme"), _keys("globex")

    # whose contract ended longer ago than the grace period
    in_thread(lambda: _end_contract(tenant, days_ago=settings.PORTAL_CONTRACT_GRACE_DAYS + 1))

    # when the daily platform scan runs on the provisioning worker (owner role)
    outcome = contract_scan.apply_async().get(timeout=120)

    # then its schema, keys and files are gone and its host no longer answers
    assert outcome["destroyed"] == ["ctend"], outcome

    assert not _schema_exists("ctend")
    assert _keys("ctend") == (0, 0)
    assert _media_files("ctend") == []
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.DESTROYED
    assert not Domain.objects.filter(tenant=tenant).exists()
    assert Client(HTTP_HOST="ctend.localhost").get("/").status_code == 404

    # and a signed certificate stays in the public schema, with the counts
    certificate = DestructionCertificate.objects.get(tenant=tenant)
    assert certificate.counts == {"subjects": 1, "items": 1, "interactions": 1, "files": 1}
    assert certificate.legal_name == "Deneme ctend A.Ş." and certificate.vkn == "0010011238"
    assert certificate.key_id == signing.key_id()
    assert AuditEntry.objects.filter(
        action=Action.DESTROY, detail__schema="ctend", detail__certificate=certificate.pk
    ).exists()

    # which a platform admin downloads as JSON (verifiable with the public key alone) and PDF
    root = portal_client(None, "root")
    as_json = root.get(
        reverse("admin:tenants_destructioncertificate_json", args=[certificate.pk], urlconf=PUBLIC)
    )
    assert as_json.status_code == 200
    _verify_with_public_key_alone(as_json.json())
    as_pdf = root.get(
        reverse("admin:tenants_destructioncertificate_pdf", args=[certificate.pk], urlconf=PUBLIC)
    )
    assert as_pdf.status_code == 200 and as_pdf.content.startswith(b"%PDF")
    text = _pdf_text(as_pdf.content)
    assert "imha sertifikası" in text and "Deneme ctend A.Ş." in text
    assert certificate.signature[:32] in text.replace("\n", "")
    listed = root.get(reverse("admin:tenants_destructioncertificate_changelist", urlconf=PUBLIC))
    assert "Deneme ctend A.Ş." in listed.content.decode()

    # and the other controllers are untouched
    assert _keys("acme") == acme_keys and _keys("globex") == globex_keys
    assert _schema_exists("acme") and _schema_exists("globex")
    assert api.post(reverse("api:lookup"), {"value": TCKN}).status_code == 200

    # running the scan again changes nothing
    again = contract_scan.apply_async().get(timeout=120)
    assert again["destroyed"] == [] and again["failed"] == []
    assert DestructionCertificate.objects.filter(tenant=tenant).count() == 1


def test_a_tampered_certificate_fails_verification(committed_tenant):
    tenant = committed_tenant("cttamper")
    in_thread(lambda: _end_contract(tenant, days_ago=settings.PORTAL_CONTRACT_GRACE_DAYS + 1))
    certificate = in_thread(lambda: contract.contract_destroy(tenant_id=tenant.pk), role="owner")

    assert contract.certificate_signature_valid(certificate)
    certificate.body["counts"]["subjects"] += 1
    assert not contract.certificate_signature_valid(certificate)
    with pytest.raises(InvalidSignature):
        _verify_with_public_key_alone(
            {"body": certificate.body, "signature": certificate.signature}
        )


def test_a_destruction_that_crashed_finishes_on_the_next_run_with_one_certificate(
    committed_tenant, monkeypatch
):
    # given a controller past its grace period
    tenant = committed_tenant("ctcrash")
    _seed_committed(tenant)
    in_thread(lambda: _end_contract(tenant, days_ago=settings.PORTAL_CONTRACT_GRACE_DAYS + 1))

    # when the destruction crashes after the keys went, before the schema drop committed
    def crash(message: bytes) -> str:
        raise RuntimeError("worker killed")

    monkeypatch.setattr(signing, "sign", crash)
    with pytest.raises(RuntimeError):
        in_thread(lambda: contract.contract_destroy(tenant_id=tenant.pk), role="owner")
    assert _schema_exists("ctcrash") and _keys("ctcrash") == (0, 0)
    assert not DestructionCertificate.objects.filter(tenant=tenant).exists()
    monkeypatch.undo()

    # then the next run finishes it, with the counts of the data that was there
    first = in_thread(lambda: contract.contract_destroy(tenant_id=tenant.pk), role="owner")
    second = in_thread(lambda: contract.contract_destroy(tenant_id=tenant.pk), role="owner")
    assert first.pk == second.pk
    assert first.counts == {"subjects": 1, "items": 1, "interactions": 1, "files": 1}
    assert not _schema_exists("ctcrash")
    assert DestructionCertificate.objects.filter(tenant=tenant).count() == 1


def test_a_controller_in_its_grace_period_is_not_destroyed(committed_tenant):
    tenant = committed_tenant("ctgrace")
    in_thread(lambda: _end_contract(tenant, days_ago=settings.PORTAL_CONTRACT_GRACE_DAYS - 1))

    with pytest.raises(PortalError) as refused:
        in_thread(lambda: contract.contract_destroy(tenant_id=tenant.pk), role="owner")

    assert refused.value.code == "grace_not_over"
    assert _schema_exists("ctgrace") and _keys("ctgrace")[0] == 1


def test_a_destroyed_controller_stays_gone_when_saved_or_migrated(committed_tenant):
    # given a destroyed controller
    tenant = committed_tenant("ctgone")
    in_thread(lambda: _end_contract(tenant, days_ago=settings.PORTAL_CONTRACT_GRACE_DAYS + 1))
    in_thread(lambda: contract.contract_destroy(tenant_id=tenant.pk), role="owner")

    # when its row is saved (an admin edit) and every schema is migrated
    def save_and_migrate():
        row = Tenant.objects.get(pk=tenant.pk)
        row.contact_name = "Arşiv"
        row.save()
        call_command("migrate_schemas", verbosity=0)

    in_thread(save_and_migrate, role="owner")

    # then its schema is not recreated, and the others are still there
    assert not _schema_exists("ctgone")
    assert _schema_exists("acme") and _schema_exists("globex")
    assert Tenant.objects.get(pk=tenant.pk).status == Tenant.Status.DESTROYED
