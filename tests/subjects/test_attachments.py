"""Interaction attachments: checked before anything is stored, no file outlives its write."""

import base64
import json
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone, translation
from django_tenants.utils import tenant_context

import config.celery
from subjects import services, validation
from subjects.api import views
from subjects.models import DataSubject, Interaction, ProcessingPurpose
from subjects.tasks import attachments_sweep
from tests.subjects.conftest import subject_record

EMOJI = "😀"  # one character, 12 bytes once JSON escapes it


class Rollback(Exception):
    pass


def _tr(message, limit: int) -> str:
    with translation.override("tr"):
        return str(message) % {"limit": filesizeformat(limit)}


def _interaction(content: bytes, *, text: str = "Görüşme notu", name: str = "dilekce.pdf"):
    return {
        "kind": "ticket",
        "purpose": "complaints",
        "occurred_at": "2025-05-05T12:00:00+03:00",
        "text": text,
        "attachment": {"name": name, "content_base64": base64.b64encode(content).decode()},
    }


def _files() -> set[str]:
    try:
        return set(default_storage.listdir("acme/interactions")[1])
    except FileNotFoundError:
        return set()


@pytest.fixture
def subject_uuid(api) -> str:
    return api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]


def test_an_oversized_attachment_is_refused_by_its_base64_length_before_decoding(
    api, acme, subject_uuid, settings, monkeypatch
):
    settings.ATTACHMENT_MAX_BYTES = 1000
    decoded = []
    monkeypatch.setattr(
        views.base64, "b64decode", lambda data, **kw: decoded.append(len(data)) or b""
    )
    files = _files()

    response = api.post(reverse("api:interactions", args=[subject_uuid]), _interaction(b"x" * 1001))

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "attachment": [_tr(services.ATTACHMENT_TOO_LARGE, 1000)]
    }
    assert decoded == []
    assert _files() == files
    with tenant_context(acme):
        assert not Interaction.objects.exists()


def test_an_attachment_of_exactly_the_limit_is_stored(api, acme, subject_uuid, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000
    for size in (998, 999, 1000):  # every padding of base64
        response = api.post(
            reverse("api:interactions", args=[subject_uuid]), _interaction(b"x" * size)
        )
        assert response.status_code == 201, (size, response.content)


def test_the_largest_valid_interaction_is_never_refused_as_too_large_a_body(
    api, acme, subject_uuid, settings
):
    # given an attachment of the largest size allowed, and the longest text and name
    body = _interaction(
        b"\xff" * settings.ATTACHMENT_MAX_BYTES,
        text=EMOJI * validation.MAX_INTERACTION_TEXT,
        name=EMOJI * validation.MAX_ATTACHMENT_NAME,
    )
    encoded = json.dumps(body)  # escapes every emoji, as many clients do
    assert len(encoded) > settings.ATTACHMENT_MAX_BYTES * 4 // 3 + 256 * 1024

    # when it is sent
    response = api.post(reverse("api:interactions", args=[subject_uuid]), encoded)

    # then it is stored, not refused by the body limit
    assert response.status_code == 201, response.content[:300]
    with tenant_context(acme):
        assert Interaction.objects.get().attachment_size == settings.ATTACHMENT_MAX_BYTES


def test_a_body_limit_too_small_for_the_largest_interaction_stops_the_start(settings):
    services.attachment_limits_check()  # the defaults agree
    settings.ATTACHMENT_MAX_BYTES = 3 * 1024 * 1024
    settings.API_MAX_BODY_BYTES = 4 * 1024 * 1024 + 300 * 1024  # base64 + 300 kB: too little

    with pytest.raises(ImproperlyConfigured, match="API_MAX_BODY_BYTES"):
        services.attachment_limits_check()


def _create(subject: DataSubject, content: bytes = b"%PDF gizli") -> Interaction:
    return services.interaction_create(
        subject=subject,
        kind="ticket",
        purpose=ProcessingPurpose.objects.get(code="complaints"),
        occurred_at=timezone.now(),
        text="Görüşme notu",
        attachment_name="dilekce.pdf",
        attachment=content,
    )


def test_a_write_that_fails_after_storing_its_file_removes_it(acme, subject_uuid, monkeypatch):
    def log_unavailable(**kwargs):
        raise RuntimeError("processing log unavailable")

    monkeypatch.setattr(services, "audit_entry_create", log_unavailable)
    files = _files()
    with tenant_context(acme), pytest.raises(RuntimeError):
        _create(DataSubject.objects.get(uuid=subject_uuid))
    assert _files() == files


def test_a_file_left_by_an_outer_rollback_is_removed_by_the_hourly_sweep(acme, subject_uuid):
    with tenant_context(acme):
        subject = DataSubject.objects.get(uuid=subject_uuid)
        # given a file whose write was rolled back by its caller after interaction_create returned
        with pytest.raises(Rollback), transaction.atomic():
            orphan = _create(subject).attachment_path
            raise Rollback
        # and a file of a stored interaction
        kept = _create(subject).attachment_path
        assert default_storage.exists(orphan) and default_storage.exists(kept)

        # when the sweep runs: first while the orphan may still belong to a running write
        assert services.attachments_orphaned_delete() == 0
        assert default_storage.exists(orphan)
        later = timezone.now() + services.ORPHAN_ATTACHMENT_AGE + timedelta(minutes=1)
        services.attachments_orphaned_delete(now=later)

        # then only the file no interaction refers to is gone
        assert not default_storage.exists(orphan)
        assert default_storage.exists(kept)
    schedule = config.celery.app.conf.beat_schedule.values()
    assert any(
        entry["task"] == "tenants.tasks.fan_out"
        and entry["args"] == ("subjects.tasks.attachments_sweep",)
        for entry in schedule
    )
    assert attachments_sweep(schema_name="acme") == 0  # runs in the controller's schema


def test_nothing_is_stored_for_a_destroyed_subject(acme, subject_uuid):
    files = _files()
    with tenant_context(acme):
        subject = DataSubject.objects.get(uuid=subject_uuid)
        services.subject_key_destroy(subject=subject, reason="test")
        with pytest.raises(services.PortalError):
            _create(subject)
        assert not Interaction.objects.exists()
    assert _files() == files
