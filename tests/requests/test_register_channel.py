"""Staff register applications from the other channels, with the scanned document; bad input
is refused next to its field and nothing is saved."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context
from PIL import Image

from audit.models import AuditEntry
from config.kvkk import ApplicationChannel
from requests import services
from requests.models import Application, ApplicationDocument
from tests.requests.helpers import register_subject, tckn_make

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def _url(tenant, name, *args) -> str:
    with tenant_context(tenant):
        return reverse(name, args=args)


def _form(**overrides) -> dict:
    received = timezone.localtime() - timedelta(days=2)
    data = {
        "channel": "written",
        "received_at": received.strftime("%Y-%m-%dT%H:%M"),
        "first_name": "Mehmet",
        "last_name": "Öztürk",
        "tckn": tckn_make(3131),
        "nationality": "",
        "foreign_id": "",
        "address": "Gül Sok. No:3 Çankaya Ankara",
        "email": "mehmet@ornek.com.tr",
        "phone": "",
        "rights": ["a", "e"],
        "details": "Verilerimin silinmesini istiyorum.",
        "document": SimpleUploadedFile("tarama.pdf", PDF, content_type="application/pdf"),
    }
    data.update(overrides)
    return data


def _nothing_saved(tenant) -> None:
    with tenant_context(tenant):
        assert not Application.objects.exists()
        assert not ApplicationDocument.objects.exists()


@pytest.mark.parametrize(
    "channel", [c for c in ApplicationChannel.values if c != ApplicationChannel.WEB]
)
def test_every_other_channel_is_registered_with_its_scan(acme, colleague, channel):
    number = tckn_make(3131)
    with tenant_context(acme):
        subject = register_subject(tckn=number)

    response = colleague.post(_url(acme, "requests:register"), _form(channel=channel))

    assert response.status_code == 302
    with tenant_context(acme):
        app = Application.objects.get()
        assert response["Location"] == reverse("requests:detail", args=[app.reference])
        assert app.channel == channel
        assert app.rights == ["a", "e"]
        assert app.subject == subject
        assert app.registered_by.username == "colleague"
        assert services.applicant_of(app)["last_name"] == "Öztürk"
        scan = app.documents.get()
        assert scan.kind == "scan" and scan.content_type == "application/pdf"
        assert services.document_content(scan) == PDF
        assert app.due_on == services.due_on(app.received_at)
        assert AuditEntry.objects.filter(detail__event="registered", object_id=str(app.pk)).exists()


def test_a_foreign_national_is_registered_by_nationality_and_document(acme, owner):
    data = _form(tckn="", nationality="de", foreign_id="C01X00T47",
                 document=SimpleUploadedFile("scan.png", _png()))  # fmt: skip
    response = owner.post(_url(acme, "requests:register"), data)
    assert response.status_code == 302
    with tenant_context(acme):
        app = Application.objects.get()
        assert services.applicant_of(app)["nationality"] == "DE"
        assert app.identity_index == bytes(
            services.Identity(nationality="DE", foreign_id="C01X00T47").index()
        )
        assert app.documents.get().content_type == "image/png"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"tckn": "12345678901"}, "tckn"),
        ({"tckn": ""}, "tckn"),
        ({"tckn": "", "nationality": "Almanya", "foreign_id": "C01X00T47"}, "nationality"),
        ({"tckn": "", "nationality": "DE", "foreign_id": "x"}, "foreign_id"),
        ({"rights": []}, "rights"),
        ({"rights": ["z"]}, "rights"),
        ({"channel": "web"}, "channel"),
        ({"first_name": ""}, "first_name"),
        (
            {"received_at": (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")},
            "received_at",
        ),
        ({"received_at": "dün"}, "received_at"),
        (
            {"document": SimpleUploadedFile("tarama.pdf", b"MZ\x90\x00 not a pdf at all")},
            "document",
        ),
        ({"document": SimpleUploadedFile("bos.pdf", b"")}, "document"),
        ({"document": ""}, "document"),
    ],
)
def test_bad_input_is_refused_by_its_field_and_nothing_is_saved(acme, owner, overrides, field):
    response = owner.post(_url(acme, "requests:register"), _form(**overrides))

    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors.get(field), form.errors
    assert "invalid-feedback" in response.content.decode()
    _nothing_saved(acme)


@override_settings(APPLICATION_UPLOAD_MAX_BYTES=100)
def test_a_scan_over_the_size_limit_is_refused(acme, owner):
    big = SimpleUploadedFile("buyuk.pdf", PDF + b"0" * 200)
    response = owner.post(_url(acme, "requests:register"), _form(document=big))
    assert response.status_code == 400
    assert response.context["form"].errors.get("document")
    _nothing_saved(acme)


def test_the_form_defaults_the_receipt_to_now(acme, owner):
    page = owner.get(_url(acme, "requests:register"))
    assert page.status_code == 200
    assert timezone.localtime().strftime("%Y-%m-%dT") in page.content.decode()
