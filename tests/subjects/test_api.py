"""The register's REST API: ingest, look-up, corrections, and bad input that changes nothing."""

import base64
import json

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import translation
from django_tenants.utils import tenant_context
from rest_framework.serializers import CharField, DictField, Field, ListField

from audit.models import Action, AuditEntry
from subjects import validation
from subjects.api.auth import api_token_revoke
from subjects.api.errors import INVALID_INPUT
from subjects.models import ApiToken, DataSubject, Interaction, PersonalDataItem
from subjects.validators import TCKN_INVALID
from tests.subjects.conftest import TCKN_AYSE, TCKN_MEHMET, ApiClient, make_token, subject_record


def _counts(tenant) -> tuple[int, int, int]:
    with tenant_context(tenant):
        return (
            DataSubject.objects.count(),
            PersonalDataItem.objects.count(),
            AuditEntry.objects.count(),
        )


def _tr(message, params=None) -> str:
    with translation.override("tr"):
        return str(message) % params if params else str(message)


def test_upsert_creates_a_subject_then_adds_to_it(api, acme):
    created = api.post(reverse("api:subject_upsert"), subject_record())
    assert created.status_code == 201, created.json()
    uuid = created.json()["subjects"][0]

    again = api.post(reverse("api:subject_upsert"), subject_record(identifiers={"tckn": TCKN_AYSE}))
    assert again.status_code == 200
    assert again.json() == {"created": 0, "extended": 1, "items": 1, "subjects": [uuid]}

    found = api.post(reverse("api:lookup"), {"value": f"AYSE.{TCKN_AYSE}@EXAMPLE.COM.TR"})
    assert found.status_code == 200
    [match] = found.json()["matches"]
    assert (match["kind"], match["uuid"], match["item_count"]) == ("email", uuid, 2)


def test_bulk_creates_every_subject(api, acme):
    records = [subject_record(tckn=t, identifiers={"tckn": t}) for t in (TCKN_AYSE, TCKN_MEHMET)]
    response = api.post(reverse("api:bulk"), {"subjects": records})
    assert response.status_code == 201
    assert response.json()["created"] == 2 and response.json()["items"] == 2
    with tenant_context(acme):
        assert (
            AuditEntry.objects.filter(action=Action.CREATE, detail__event="register_ingest")
            .latest("id")
            .detail["items"]
            == 2
        )


def test_one_bad_record_rejects_the_whole_batch(api, acme):
    before = _counts(acme)
    records = [
        subject_record(),
        subject_record(tckn="12345678901", identifiers={"tckn": "12345678901"}),
    ]

    response = api.post(reverse("api:bulk"), {"subjects": records})

    assert response.status_code == 400
    body = response.json()["error"]
    assert body["fields"] == {"subjects[1].identifiers.tckn": [_tr(TCKN_INVALID)]}
    assert _counts(acme) == before


def test_errors_come_in_english_when_asked(acme):
    api = ApiClient(acme.host, make_token(acme), language="en")
    response = api.post(
        reverse("api:subject_upsert"),
        subject_record(tckn="11111111111", identifiers={"tckn": "11111111111"}),
    )
    assert response.json()["error"]["fields"]["identifiers.tckn"] == [str(TCKN_INVALID)]
    assert response.json()["error"]["message"].startswith("The request has invalid fields")


@pytest.mark.parametrize(
    ("item_change", "field", "message", "params"),
    [
        (
            {"category": "shoe_size"},
            "category",
            validation.UNKNOWN_CATEGORY,
            {"codes": "contact, customer_transaction, health, identity, location, marketing"},
        ),
        (
            {"purpose": "resale"},
            "purpose",
            validation.UNDECLARED_PURPOSE,
            {"codes": "complaints, contract, customer_service, marketing"},
        ),
        (
            {"category": "health"},
            "legal_basis",
            validation.SPECIAL_NEEDS_CONSENT,
            {"category": "Sağlık"},
        ),
        ({"legal_basis": "art6_3"}, "legal_basis", validation.STATUTORY_ONLY_SPECIAL, None),
        (
            {"collected_at": "2099-01-01T00:00:00Z"},
            "collected_at",
            validation.COLLECTED_IN_FUTURE,
            None,
        ),
    ],
)
def test_register_rules_refuse_the_item_and_change_nothing(
    api, acme, item_change, field, message, params
):
    record = subject_record()
    record["items"][0].update(item_change)
    before = _counts(acme)

    response = api.post(reverse("api:subject_upsert"), record)

    assert response.status_code == 400
    assert response.json()["error"]["fields"][f"items[0].{field}"] == [_tr(message, params)]
    assert _counts(acme) == before


def test_special_category_is_accepted_with_the_explicit_consent_the_record_brings(api):
    record = subject_record()
    record["items"][0].update(
        {"category": "health", "legal_basis": "art5_1", "value": "Gluten intoleransı"}
    )
    record["consents"] = [
        {
            "purpose": "customer_service",
            "channel": "paper",
            "given_at": "2025-02-28T10:00:00+03:00",
            "evidence_reference": "FORM-2025-0001",
        }
    ]
    assert api.post(reverse("api:subject_upsert"), record).status_code == 201


def test_malformed_json_gets_a_clear_turkish_error(api, acme):
    before = _counts(acme)
    response = api.post(reverse("api:subject_upsert"), '{"group": "customer", ')
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "İstek gövdesi geçerli bir JSON değil."
    assert _counts(acme) == before


def test_oversized_payload_is_refused(api, acme, settings):
    settings.API_MAX_BODY_BYTES = 2_000
    record = subject_record()
    record["items"][0]["value"] = "x" * 5_000
    response = api.post(reverse("api:subject_upsert"), record)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert _counts(acme)[0] == 0


def test_bulk_batch_size_is_limited(api, settings):
    settings.API_BULK_MAX_SUBJECTS = 1
    response = api.post(
        reverse("api:bulk"), {"subjects": [subject_record(), subject_record(tckn=TCKN_MEHMET)]}
    )
    assert response.status_code == 400
    assert "subjects" in response.json()["error"]["fields"]


@pytest.mark.parametrize("token", ["", "Token nope", "Token kvkk_0000_forged", "Bearer"])
def test_missing_or_wrong_token_is_refused(acme, token):
    client = ApiClient(acme.host, "x")
    client.headers = {"HTTP_AUTHORIZATION": token} if token else {}
    response = client.post(reverse("api:subject_upsert"), subject_record())
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"not_authenticated", "authentication_failed"}


def test_token_of_another_tenant_is_refused(acme, globex):
    foreign = ApiClient(acme.host, make_token(globex))
    response = foreign.post(reverse("api:subject_upsert"), subject_record())
    assert response.status_code == 401
    assert _counts(acme)[0] == 0


def test_revoked_token_stops_working(acme):
    raw = make_token(acme)
    api = ApiClient(acme.host, raw)
    assert api.post(reverse("api:lookup"), {"value": TCKN_AYSE}).json() == {"matches": []}
    with tenant_context(acme):
        api_token_revoke(token=ApiToken.objects.get(), revoked_by=None)
    assert api.post(reverse("api:lookup"), {"value": TCKN_AYSE}).status_code == 401


def test_read_only_token_cannot_write(acme):
    api = ApiClient(acme.host, make_token(acme, scope=ApiToken.Scope.READ))
    response = api.post(reverse("api:subject_upsert"), subject_record())
    assert response.status_code == 403
    # a look-up is a read, even though it is posted
    assert api.post(reverse("api:lookup"), {"value": TCKN_AYSE}).status_code == 200


def test_requests_per_token_are_rate_limited(acme, monkeypatch):
    from subjects.api.auth import TokenRateThrottle

    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "3/minute"})
    api = ApiClient(acme.host, make_token(acme))
    with tenant_context(acme):
        key = f"throttle_token_{ApiToken.objects.get().pk}"
        # The test database restarts its ids each run while Redis keeps the last minute's
        # counters: a token with this id may have been used by the previous run.
        cache.delete(key)
    try:
        statuses = [
            api.post(reverse("api:lookup"), {"value": TCKN_AYSE}).status_code for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
    finally:
        with tenant_context(acme):
            cache.delete(key)


def test_reading_a_subject_needs_a_purpose_and_is_logged(api, acme):
    uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]

    assert api.get(reverse("api:subject", args=[uuid])).status_code == 400
    response = api.get(reverse("api:subject", args=[uuid]), {"purpose": "Müşteri şikâyeti #42"})

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Ayşe Yılmaz"
    assert body["identifiers"] == {"tckn": TCKN_AYSE, "email": f"ayse.{TCKN_AYSE}@example.com.tr"}
    assert body["items"][0]["value"] == "Çiçek Sok. No:5 Kadıköy/İstanbul"
    with tenant_context(acme):
        read = AuditEntry.objects.filter(action=Action.READ).latest("id")
    assert (read.subject_ref, read.purpose) == (uuid, "Müşteri şikâyeti #42")
    assert read.actor_label.startswith("api:crm")


def test_correcting_an_identifier_moves_the_look_up(api):
    uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]

    response = api.patch(
        reverse("api:subject", args=[uuid]),
        {"identifiers": {"email": "yeni@example.com.tr"}, "name": "Ayşe Kaya"},
    )

    assert response.status_code == 200
    old = api.post(reverse("api:lookup"), {"value": f"ayse.{TCKN_AYSE}@example.com.tr"})
    assert old.json() == {"matches": []}
    new = api.post(reverse("api:lookup"), {"value": "yeni@example.com.tr"}).json()["matches"]
    assert [match["uuid"] for match in new] == [uuid]
    assert (
        api.get(reverse("api:subject", args=[uuid]), {"purpose": "check"}).json()["name"]
        == "Ayşe Kaya"
    )


def test_identifier_of_another_subject_cannot_be_taken(api):
    first = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]
    api.post(
        reverse("api:subject_upsert"),
        subject_record(tckn=TCKN_MEHMET, identifiers={"tckn": TCKN_MEHMET}),
    )

    response = api.patch(
        reverse("api:subject", args=[first]), {"identifiers": {"tckn": TCKN_MEHMET}}
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "identifier_taken"
    owners = api.post(reverse("api:lookup"), {"value": TCKN_MEHMET}).json()["matches"]
    assert [match["uuid"] for match in owners] != [first]


def test_item_update_with_undeclared_purpose_changes_nothing(api, acme):
    api.post(reverse("api:subject_upsert"), subject_record())
    with tenant_context(acme):
        item = PersonalDataItem.objects.get()
    response = api.patch(
        reverse("api:item", args=[item.pk]), {"purpose": "resale", "value": "changed"}
    )
    assert response.status_code == 400
    with tenant_context(acme):
        assert PersonalDataItem.objects.get().value_enc == item.value_enc


def test_items_and_interactions_are_added_to_a_subject(api, acme):
    uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]
    items = api.post(
        reverse("api:items_add", args=[uuid]),
        {
            "items": [
                {
                    "category": "customer_transaction",
                    "purpose": "contract",
                    "legal_basis": "art5_2_c",
                    "source_system": "erp",
                    "value": "Sipariş 2025-0042",
                    "collected_at": "2025-04-01T09:00:00+03:00",
                },
            ]
        },
    )
    assert items.status_code == 201
    attachment = base64.b64encode("Fatura itirazı – gizli içerik".encode()).decode()
    interaction = api.post(
        reverse("api:interactions", args=[uuid]),
        {
            "kind": "ticket",
            "purpose": "complaints",
            "occurred_at": "2025-05-05T12:00:00+03:00",
            "text": "Müşteri faturaya itiraz etti.",
            "attachment": {"name": "itiraz.pdf", "content_base64": attachment},
        },
    )
    assert interaction.status_code == 201
    with tenant_context(acme):
        stored = Interaction.objects.get()
        assert stored.attachment_path.startswith("acme/interactions/")
        with default_storage.open(stored.attachment_path) as handle:
            assert b"gizli" not in handle.read()
    body = api.get(reverse("api:subject", args=[uuid]), {"purpose": "support"}).json()
    assert [item["value"] for item in body["items"]] == [
        "Çiçek Sok. No:5 Kadıköy/İstanbul",
        "Sipariş 2025-0042",
    ]


def test_bad_base64_attachment_is_refused(api, acme):
    uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]
    response = api.post(
        reverse("api:interactions", args=[uuid]),
        {
            "kind": "call",
            "purpose": "complaints",
            "occurred_at": "2025-05-05T12:00:00+03:00",
            "text": "x",
            "attachment": {"name": "a.txt", "content_base64": "%%%"},
        },
    )
    assert response.status_code == 400


def test_look_ups_never_cross_tenants(api, globex_api):
    api.post(reverse("api:subject_upsert"), subject_record())
    assert globex_api.post(reverse("api:lookup"), {"value": TCKN_AYSE}).json() == {"matches": []}


def test_openapi_schema_and_docs_are_published(acme):
    from django.test import Client

    client = Client(HTTP_HOST=acme.host)
    schema = client.get(reverse("api:schema"), {"format": "json"})
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert "/api/v1/subjects/bulk/" in paths and "/api/v1/subjects/lookup/" in paths
    docs = client.get(reverse("api:docs"))
    assert docs.status_code == 200


def test_redoc_is_not_offered_because_our_content_security_policy_would_break_it(acme):
    from django.test import Client

    assert Client(HTTP_HOST=acme.host).get("/api/v1/redoc/").status_code == 404


def test_suspended_controller_api_answers_with_a_json_error(api, acme):
    from tenants.models import Tenant
    from tenants.services import tenant_set_status

    tenant_set_status(tenant=acme, status=Tenant.Status.SUSPENDED, changed_by=None)
    response = api.post(reverse("api:subject_upsert"), subject_record())
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "workspace_unavailable"
    assert _counts(acme)[0] == 0


def test_a_malformed_batch_gets_every_shape_error_by_its_path_and_changes_nothing(api, acme):
    good = subject_record()
    bad_item = {**good["items"][0], "value": 42, "source_system": "x" * 81, "last_used_at": []}
    records = [
        {**good, "items": [good["items"][0], bad_item]},
        "not a record",
        {**good, "identifiers": ["10000000146"], "items": {"category": "contact"}},
        {**good, "name": None, "identifiers": {"tckn": ""}},
    ]
    before = _counts(acme)

    response = api.post(reverse("api:bulk"), {"subjects": records})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"] == _tr(INVALID_INPUT)
    invalid, blank = (
        CharField.default_error_messages["invalid"],
        CharField.default_error_messages["blank"],
    )
    null = Field.default_error_messages["null"]
    too_long = CharField.default_error_messages["max_length"]
    not_a_dict = DictField.default_error_messages["not_a_dict"]
    not_a_list = ListField.default_error_messages["not_a_list"]
    assert error["fields"] == {
        "subjects[0].items[1].value": [_tr(invalid)],
        "subjects[0].items[1].source_system": [_tr(too_long).format(max_length=80)],
        "subjects[0].items[1].last_used_at": [_tr(invalid)],
        "subjects[1]": [_tr(not_a_dict).format(input_type="str")],
        "subjects[2].identifiers": [_tr(not_a_dict).format(input_type="list")],
        "subjects[2].items": [_tr(not_a_list).format(input_type="dict")],
        "subjects[3].name": [_tr(null)],
        "subjects[3].identifiers.tckn": [_tr(blank)],
    }
    assert _counts(acme) == before


@pytest.mark.parametrize("body", [[], "text", {"subjects": "all"}, {"subjects": []}, {}])
def test_a_bulk_body_of_the_wrong_shape_is_a_clear_400(api, acme, body):
    response = api.post(reverse("api:bulk"), body)
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) <= {"subjects", "non_field_errors"}


def test_the_old_get_look_up_answers_405_and_logs_nothing(api, acme):
    with tenant_context(acme):
        before = AuditEntry.objects.count()
    response = api.get(reverse("api:lookup"), {"value": TCKN_AYSE})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    with tenant_context(acme):
        assert AuditEntry.objects.count() == before
