"""API writes with an Idempotency-Key: a retry gets the first answer and writes nothing twice."""

import base64
import json
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django_tenants.utils import tenant_context

import config.celery
from subjects.idempotency import KEY_INVALID, KEY_REUSED
from subjects.models import DataSubject, IdempotentWrite, PersonalDataItem
from subjects.tasks import idempotency_keys_sweep
from tests.conftest import in_thread
from tests.subjects.conftest import TCKN_AYSE, ApiClient, make_token, subject_record
from tests.subjects.test_races import (
    Background,
    _hold_after_identifiers,
    _slug,
    _token,
    _until_waiting_or_done,
)

KEY = "4b1f0c1e-6f0a-4c55-9d7e-2f1d5c0b7a11"


def _tr(message) -> str:
    with translation.override("tr"):
        return str(message)


def _counts(tenant) -> tuple[int, int]:
    with tenant_context(tenant):
        return DataSubject.objects.count(), PersonalDataItem.objects.count()


def _keyed(key: str = KEY) -> dict:
    return {"HTTP_IDEMPOTENCY_KEY": key}


def test_a_retried_write_returns_the_first_answer_and_appends_nothing(api, acme):
    first = api.post(reverse("api:subject_upsert"), subject_record(), **_keyed())
    uuid_ = first.json()["subjects"][0]
    more = {"items": subject_record()["items"]}
    added = api.post(reverse("api:items_add", args=[uuid_]), more, **_keyed("ek-1"))

    again = api.post(reverse("api:subject_upsert"), subject_record(), **_keyed())
    added_again = api.post(reverse("api:items_add", args=[uuid_]), more, **_keyed("ek-1"))

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and added_again.json() == added.json()
    assert again["Idempotent-Replayed"] == added_again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert _counts(acme) == (1, 2)


def test_without_a_key_a_repeated_call_appends_again(api, acme):
    api.post(reverse("api:subject_upsert"), subject_record())
    api.post(reverse("api:subject_upsert"), subject_record())
    assert _counts(acme) == (1, 2)


def test_the_same_key_with_another_body_or_endpoint_is_refused(api, acme):
    api.post(reverse("api:subject_upsert"), subject_record(), **_keyed())
    changed = subject_record()
    changed["items"][0]["value"] = "Başka adres"

    response = api.post(reverse("api:subject_upsert"), changed, **_keyed())
    elsewhere = api.post(reverse("api:bulk"), {"subjects": [subject_record()]}, **_keyed())

    assert response.status_code == elsewhere.status_code == 422
    assert response.json()["error"] == {
        "code": "idempotency_key_reused",
        "message": _tr(KEY_REUSED),
        "fields": {},
    }
    assert _counts(acme) == (1, 1)


def test_keys_belong_to_their_token(api, acme):
    api.post(reverse("api:subject_upsert"), subject_record(), **_keyed())
    other = ApiClient(acme.host, make_token(acme))

    response = other.post(reverse("api:subject_upsert"), subject_record(), **_keyed())

    assert response.status_code == 200 and "Idempotent-Replayed" not in response
    assert _counts(acme) == (1, 2)


def test_a_failed_write_keeps_no_key_so_its_retry_runs(api, acme):
    broken = subject_record()
    broken["items"][0]["category"] = "shoe_size"

    refused = api.post(reverse("api:subject_upsert"), broken, **_keyed())
    retried = api.post(reverse("api:subject_upsert"), subject_record(), **_keyed())

    assert refused.status_code == 400 and retried.status_code == 201
    with tenant_context(acme):
        assert IdempotentWrite.objects.get().status == 201
    assert _counts(acme) == (1, 1)


@pytest.mark.parametrize("key", ["", "x" * 256, "anahtar-ğ", "two words"])
def test_an_unusable_key_is_refused_and_nothing_is_written(api, acme, key):
    response = api.post(reverse("api:subject_upsert"), subject_record(), **_keyed(key))
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"Idempotency-Key": [_tr(KEY_INVALID)]}
    assert _counts(acme) == (0, 0)


def test_keys_are_kept_a_day_then_the_hourly_sweep_deletes_them(api, acme):
    api.post(reverse("api:subject_upsert"), subject_record(), **_keyed())
    api.post(reverse("api:subject_upsert"), subject_record(), **_keyed("later"))
    with tenant_context(acme):
        IdempotentWrite.objects.filter(key=KEY).update(
            created_at=timezone.now() - timedelta(hours=24, minutes=1)
        )
    schedule = config.celery.app.conf.beat_schedule.values()
    assert any(
        entry["task"] == "tenants.tasks.fan_out"
        and entry["args"] == ("subjects.tasks.idempotency_keys_sweep",)
        for entry in schedule
    )

    assert idempotency_keys_sweep(schema_name="acme") == 1

    with tenant_context(acme):
        assert list(IdempotentWrite.objects.values_list("key", flat=True)) == ["later"]
    again = api.post(reverse("api:subject_upsert"), subject_record(), **_keyed())
    assert again.status_code == 200 and _counts(acme) == (1, 3)


def test_stored_answers_and_item_changes_hold_no_personal_values(api, acme):
    created = api.post(reverse("api:subject_upsert"), subject_record(), **_keyed("k1"))
    uuid_ = created.json()["subjects"][0]
    with tenant_context(acme):
        item = PersonalDataItem.objects.get()
    attachment = base64.b64encode(b"Gizli dilekce").decode()
    calls = [
        api.post(reverse("api:bulk"), {"subjects": [subject_record()]}, **_keyed("k2")),
        api.patch(reverse("api:subject", args=[uuid_]), {"name": "Ayşe Kaya"}, **_keyed("k3")),
        api.patch(
            reverse("api:item", args=[item.pk]), {"value": "Gizli Yeni Adres"}, **_keyed("k4")
        ),
        api.post(
            reverse("api:interactions", args=[uuid_]),
            {
                "kind": "ticket",
                "purpose": "complaints",
                "occurred_at": "2025-05-05T12:00:00+03:00",
                "text": "Gizli görüşme notu",
                "attachment": {"name": "Ayşe-dilekçe.pdf", "content_base64": attachment},
            },
            **_keyed("k5"),
        ),
    ]
    assert [call.status_code for call in calls] == [201, 200, 200, 201]

    item_answer = calls[2].json()
    assert item_answer["id"] == item.pk and item_answer["subject"] == uuid_
    assert "value" not in item_answer
    with tenant_context(acme):
        stored = json.dumps([w.response for w in IdempotentWrite.objects.all()], ensure_ascii=False)
    for personal in ("Ayşe", "Kaya", TCKN_AYSE, "ayse.", "Çiçek", "Gizli", "dilek"):
        assert personal not in stored
        assert all(personal not in call.content.decode() for call in calls)


def test_the_openapi_schema_documents_the_header_on_every_write(acme):
    schema = Client(HTTP_HOST=acme.host).get(reverse("api:schema"), {"format": "json"})
    paths = json.loads(schema.content)["paths"]
    writes = {
        "/api/v1/subjects/": "post",
        "/api/v1/subjects/bulk/": "post",
        "/api/v1/subjects/{uuid}/": "patch",
        "/api/v1/subjects/{uuid}/items/": "post",
        "/api/v1/subjects/{uuid}/interactions/": "post",
        "/api/v1/items/{id}/": "patch",
    }
    for path, method in writes.items():
        parameters = paths[path][method].get("parameters", [])
        assert any(
            p["name"] == "Idempotency-Key" and p["in"] == "header" and not p.get("required")
            for p in parameters
        ), path


def test_a_concurrent_duplicate_waits_for_the_first_and_gets_its_answer(
    committed_tenant, monkeypatch
):
    # given a keyed call held inside its transaction after it stored its identifiers
    tenant = committed_tenant(_slug("idem"))
    raw_token = _token(tenant)
    hold = _hold_after_identifiers(monkeypatch)
    body = json.dumps(subject_record())

    def call(armed: bool):
        def post():
            if armed:
                hold.arm()
            client = Client(HTTP_HOST=tenant.host, HTTP_AUTHORIZATION=f"Token {raw_token}")
            return client.post(
                reverse("api:subject_upsert"),
                body,
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=KEY,
            )

        return post

    first = Background(call(armed=True))
    hold.wait_reached()

    # when the same call comes again meanwhile
    second = Background(call(armed=False))
    waited = _until_waiting_or_done(second)
    hold.released.set()
    first.join(), second.join()

    # then it waited, and answered what the first answered without writing again
    assert first.error is None and second.error is None
    assert first.result.status_code == second.result.status_code == 201
    assert second.result.json() == first.result.json()
    assert second.result["Idempotent-Replayed"] == "true"
    assert waited

    def counts():
        with tenant_context(tenant):
            return DataSubject.objects.count(), PersonalDataItem.objects.count()

    assert in_thread(counts) == (1, 1)


def test_calls_with_different_keys_are_different_writes(api, acme):
    api.post(reverse("api:subject_upsert"), subject_record(), **_keyed(str(uuid.uuid4())))
    api.post(reverse("api:subject_upsert"), subject_record(), **_keyed(str(uuid.uuid4())))
    assert _counts(acme) == (1, 2)
