"""A null character, which PostgreSQL stores in no text, is refused with a message, never a 500."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tenants.utils import tenant_context

from audit.models import Action, AuditEntry
from audit.services import audit_entry_create
from subjects.models import CsvImport, DataSubject
from tests.subjects.conftest import subject_record


def _subjects(tenant) -> int:
    with tenant_context(tenant):
        return DataSubject.objects.count()


def test_a_null_character_anywhere_in_an_api_body_is_refused_and_nothing_stored(api, acme):
    before = _subjects(acme)
    record = subject_record()
    record["items"][0]["source_system"] = "cr\x00m"

    for url, body in [
        (reverse("api:bulk"), {"subjects": [record]}),
        (reverse("api:subject_upsert"), {**subject_record(), "name": "Ay\x00şe"}),
        (reverse("api:lookup"), {"value": "a\x00b"}),
    ]:
        response = api.post(url, body)
        assert response.status_code == 400, url
        assert response.json()["error"]["code"] == "null_character"
        assert "\\u0000" in response.json()["error"]["message"]
    assert _subjects(acme) == before


def test_a_read_purpose_with_a_null_character_is_refused(api, acme):
    uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]
    response = api.get(reverse("api:subject", args=[uuid]), {"purpose": "Başvuru\x00 yanıtı"})
    assert response.status_code == 400
    assert "purpose" in response.json()["error"]["fields"]


def test_a_csv_upload_named_with_a_null_character_is_refused_by_the_form(owner, acme):
    upload = SimpleUploadedFile("liste\x00.csv", b"group\n", content_type="text/csv")
    response = owner.post(reverse("subjects:csv_upload"), {"file": upload})
    assert response.status_code == 200 and response.context["form"].errors
    with tenant_context(acme):
        assert not CsvImport.objects.exists()


def test_the_log_records_an_act_even_when_what_it_quotes_holds_a_null_character(acme):
    with tenant_context(acme):
        entry = audit_entry_create(
            action=Action.LOGIN_FAILED, actor_label="adm\x00in", detail={"username": "adm\x00in"}
        )
        stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.actor_label == "adm\N{REPLACEMENT CHARACTER}in"
    assert stored.detail == {"username": "adm\N{REPLACEMENT CHARACTER}in"}
