"""The transfer log: a transfer is recorded only on a valid Art. 8 basis and, abroad, an
Art. 9 route; anything else is refused with the reason, nothing is saved, and both the
transfer and the refusal appear in the processing log."""

import base64
import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from audit.models import Action, AuditEntry
from config.errors import PortalError
from subjects import exports as subject_exports
from subjects import services as subject_services
from subjects.models import DataSubject
from tests.subjects.conftest import ApiClient, make_token, subject_record
from tests.transfers.conftest import (
    abroad_recipient,
    category_ids,
    contract_recipient,
    home_recipient,
    purpose,
    subject,
    user,
)
from transfers import selectors, services
from transfers.models import AbroadRoute, IncidentalGround, Transfer, TransferBasis


def _record(recipient, subjects, categories=("contact",), **fields):
    return services.transfer_record(
        recipient=recipient,
        category_ids=category_ids(*categories),
        subject_ids=[s.pk for s in subjects],
        purpose=fields.pop("purpose", purpose()),
        legal_basis=fields.pop("legal_basis", TransferBasis.ART5_GROUND),
        ground=fields.pop("ground", "art5_2_c"),
        actor=user(),
        **fields,
    )


def _download_attachment(client, tenant) -> str:
    """An officer downloads a subject's attachment through the portal; the subject's uuid."""
    api = ApiClient(tenant.host, make_token(tenant))
    uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]
    attachment = {"name": "dilekçe.pdf", "content_base64": base64.b64encode(b"%PDF x").decode()}
    api.post(
        reverse("api:interactions", args=[uuid]),
        {
            "kind": "message",
            "purpose": "complaints",
            "occurred_at": "2025-05-05T12:00:00+03:00",
            "text": "Dilekçe ekte.",
            "attachment": attachment,
        },
    )
    read = client.post(reverse("subjects:detail", args=[uuid]), {"purpose": "Başvuru yanıtı"})
    page = client.get(read["Location"]).content.decode()
    link = re.search(r'href="(/subjects/attachment/[^"]+/)"', page).group(1)
    assert client.get(link).status_code == 200
    return uuid


def _refused(recipient, subjects, **fields) -> str:
    before = Transfer.objects.count()
    with pytest.raises(PortalError) as refused:
        _record(recipient, subjects, **fields)
    assert refused.value.code == "transfer_refused"
    assert Transfer.objects.count() == before
    entry = AuditEntry.objects.filter(action=Action.TRANSFER).first()
    assert entry.detail["event"] == "transfer_refused"
    assert entry.detail["message"] == str(refused.value)
    return entry.detail["reason"]


def test_a_transfer_on_an_art5_ground_is_recorded_with_who_and_when(in_acme):
    ayse, mehmet = subject(), subject(name="Mehmet Kaya")
    transfer = _record(home_recipient(), [ayse, mehmet], note="Kargo teslimatı")

    assert set(transfer.subjects.all()) == {ayse, mehmet}
    assert [c.code for c in transfer.categories.all()] == ["contact"]
    assert transfer.legal_basis == TransferBasis.ART5_GROUND and transfer.ground == "art5_2_c"
    assert transfer.actor_label == "colleague" and not transfer.is_abroad
    assert abs((transfer.informed_at - timezone.now()).total_seconds()) < 60
    entry = AuditEntry.objects.get(action=Action.TRANSFER, object_id=str(transfer.pk))
    assert entry.detail["subjects"] == 2 and entry.actor_label == "colleague"


def test_an_art5_transfer_without_its_ground_is_refused(in_acme):
    assert _refused(home_recipient(), [subject()], ground="") == "no_ground"


def test_special_categories_are_refused_on_an_art5_ground(in_acme):
    reason = _refused(home_recipient(), [subject("health")], categories=("health",))
    assert reason == "special_category"


def test_special_categories_go_on_an_art6_ground(in_acme):
    transfer = _record(
        home_recipient(),
        [subject("health")],
        categories=("health",),
        legal_basis=TransferBasis.ART6_GROUND,
        ground="art6_3_e",
    )
    assert transfer.ground == "art6_3_e"


def test_an_art6_ground_is_refused_for_ordinary_data_and_without_a_ground(in_acme):
    recipient = home_recipient()
    assert (
        _refused(recipient, [subject()], legal_basis=TransferBasis.ART6_GROUND, ground="art6_3_b")
        == "not_special"
    )
    _refused(
        recipient,
        [subject("health")],
        categories=("health",),
        legal_basis=TransferBasis.ART6_GROUND,
        ground="art5_2_c",
    )


def test_an_unknown_basis_is_refused(in_acme):
    _refused(home_recipient(), [subject()], legal_basis="whatever")


def test_a_recipient_abroad_without_a_route_is_refused(in_acme):
    assert _refused(abroad_recipient(), [subject()]) == "no_route"


def test_a_recipient_abroad_with_an_adequacy_decision_receives(in_acme):
    recipient = abroad_recipient(route=AbroadRoute.ADEQUACY, adequacy_reference="Karar 2026/1")
    transfer = _record(recipient, [subject()])
    assert transfer.is_abroad and transfer.route == AbroadRoute.ADEQUACY
    assert transfer.country == "DE" and transfer.route_detail == "Karar 2026/1"


def test_an_incidental_ground_carries_a_transfer_abroad(in_acme):
    recipient = abroad_recipient(
        route=AbroadRoute.INCIDENTAL, incidental_ground=IncidentalGround.CONTRACT_WITH_SUBJECT
    )
    assert _record(recipient, [subject()]).route == AbroadRoute.INCIDENTAL


def test_a_standard_contract_in_its_notification_window_carries_a_transfer(in_acme):
    recipient = contract_recipient(timezone.localdate())
    assert _record(recipient, [subject()]).route_detail == "standard_contract"


def test_a_standard_contract_never_notified_after_five_business_days_is_refused(in_acme):
    recipient = contract_recipient(timezone.localdate() - datetime.timedelta(days=30))
    assert _refused(recipient, [subject()]) == "contract_not_notified"


def test_a_standard_contract_notified_late_still_carries_a_transfer(in_acme):
    signed = timezone.localdate() - datetime.timedelta(days=60)
    recipient = contract_recipient(signed, signed + datetime.timedelta(days=30))
    assert _record(recipient, [subject()]).is_abroad


def test_subject_recipients_lists_every_recipient_at_home_and_abroad(in_acme):
    ayse, other = subject("contact", "identity"), subject()
    _record(home_recipient(), [ayse, other], categories=("contact", "identity"))
    abroad = abroad_recipient(route=AbroadRoute.ADEQUACY, adequacy_reference="Karar 2026/1")
    _record(abroad, [ayse])
    _record(home_recipient("Başka A.Ş."), [other])

    rows = selectors.subject_recipients(subject=ayse)

    assert [(r["recipient_name"], r["is_abroad"]) for r in rows] == [
        ("Kargo Lojistik A.Ş.", False),
        ("Cloud GmbH", True),
    ]
    assert sorted(rows[0]["category_ids"]) == sorted(category_ids("contact", "identity"))
    assert rows[1]["legal_basis"] == TransferBasis.ART5_GROUND and rows[1]["country"] == "DE"


def _consent(found, purpose_code="customer_service"):
    raw = {
        "purpose": purpose_code,
        "channel": "web_form",
        "given_at": (timezone.now() - datetime.timedelta(days=1)).isoformat(),
        "evidence_reference": "FORM-2026-0042",
    }
    return subject_services.consent_record(subject=found, raw=raw)


def test_explicit_consent_of_every_listed_subject_carries_a_transfer(in_acme):
    ayse, mehmet = subject(), subject(name="Mehmet Kaya")
    _consent(ayse)
    _consent(mehmet)

    transfer = _record(
        home_recipient(), [ayse, mehmet], legal_basis=TransferBasis.EXPLICIT_CONSENT, ground=""
    )

    assert transfer.legal_basis == TransferBasis.EXPLICIT_CONSENT and transfer.subject_count == 2


def test_explicit_consent_is_refused_when_one_subject_has_none_for_the_purpose(in_acme):
    ayse, mehmet = subject(), subject(name="Mehmet Kaya")
    _consent(ayse)
    _consent(mehmet, purpose_code="marketing")

    message = _refused(home_recipient(), [ayse, mehmet], legal_basis=TransferBasis.EXPLICIT_CONSENT)

    assert message == "no_consent"


def test_a_withdrawn_consent_no_longer_carries_a_transfer(in_acme):
    ayse = subject()
    subject_services.consent_withdraw(consent=_consent(ayse))

    _refused(home_recipient(), [ayse], legal_basis=TransferBasis.EXPLICIT_CONSENT)


def test_an_incidental_transfer_abroad_on_consent_needs_each_consent(in_acme):
    ayse, mehmet = subject(), subject(name="Mehmet Kaya")
    _consent(ayse)
    recipient = abroad_recipient(
        route=AbroadRoute.INCIDENTAL, incidental_ground=IncidentalGround.EXPLICIT_CONSENT
    )

    assert _refused(recipient, [ayse, mehmet]) == "no_consent"
    assert _record(recipient, [ayse]).is_abroad


def test_subjects_by_a_saved_query_are_resolved_and_the_query_is_kept(in_acme):
    with_health = subject("contact", "health")
    subject("contact")
    transfer = services.transfer_record(
        recipient=home_recipient(),
        category_ids=category_ids("health"),
        subject_ids=[],
        subject_query={"category_ids": category_ids("health")},
        purpose=purpose(),
        legal_basis=TransferBasis.ART6_GROUND,
        ground="art6_3_e",
        actor=user(),
    )

    assert list(transfer.subjects.all()) == [with_health]
    assert transfer.subject_query == {"group": None, "category_ids": category_ids("health")}


@pytest.mark.parametrize(
    "fields",
    [
        {"subject_ids": []},
        {"subject_ids": [999999999]},
        {"subject_ids": ["x"]},
        {"category_ids": []},
        {"category_ids": [999999]},
        {"informed_at": timezone.now() + datetime.timedelta(days=2)},
        {"informed_at": "gestern"},
    ],
)
def test_bad_input_is_refused_and_nothing_saved(in_acme, fields):
    ayse = subject()
    arguments = {
        "recipient": home_recipient(),
        "category_ids": category_ids("contact"),
        "subject_ids": [ayse.pk],
        "purpose": purpose(),
        "legal_basis": TransferBasis.ART5_GROUND,
        "ground": "art5_2_c",
        "actor": user(),
        **fields,
    }
    with pytest.raises(PortalError) as refused:
        services.transfer_record(**arguments)
    assert refused.value.code == "invalid"
    assert not Transfer.objects.exists()


def test_exports_are_recorded_as_transfers_to_the_controller(in_acme):
    ayse = subject("contact", "identity")
    announce = subject_exports.export_announce

    announce(subject_ids=[ayse.pk], label="contract_export_download", actor=user("owner"))

    transfer = Transfer.objects.get()
    assert transfer.recipient.is_controller and transfer.source == Transfer.Source.EXPORT
    assert transfer.legal_basis == TransferBasis.TO_CONTROLLER
    assert sorted(c.code for c in transfer.categories.all()) == ["contact", "identity"]
    entry = AuditEntry.objects.get(action=Action.TRANSFER, object_id=str(transfer.pk))
    assert entry.detail["event"] == "export" and entry.actor_label == "owner"
    rows = selectors.subject_recipients(subject=ayse)
    assert [r["source"] for r in rows] == ["export"]


def test_an_attachment_download_is_in_the_transfer_log_of_that_controller_only(
    colleague, acme, globex
):
    uuid = _download_attachment(colleague, acme)

    with tenant_context(acme):
        transfer = Transfer.objects.get()
        assert (
            transfer.export_label == "attachment_download" and transfer.actor_label == "colleague"
        )
        rows = selectors.subject_recipients(subject=DataSubject.objects.get(uuid=uuid))
        assert [r["recipient_name"] for r in rows] == [transfer.recipient.name]
    with tenant_context(globex):
        assert not Transfer.objects.exists()


# --- pages --------------------------------------------------------------------------------


def _form(to, subjects, **fields) -> dict:
    """The transfer form's fields, with acme's ids."""
    with schema_context("acme"):
        return {
            "recipient": to.pk,
            "categories": category_ids("contact"),
            "subject_refs": "\n".join(str(s.uuid) for s in subjects),
            "purpose": purpose().pk,
            "legal_basis": TransferBasis.ART5_GROUND,
            "ground": "art5_2_c",
            **fields,
        }


def test_an_officer_records_a_transfer_and_it_shows_in_the_log(colleague, auditor, acme):
    with tenant_context(acme):
        recipient, ayse = home_recipient(), subject()

    response = colleague.post(reverse("transfers:transfer_create"), _form(recipient, [ayse]))

    assert response.status_code == 302
    with tenant_context(acme):
        assert Transfer.objects.get().actor_label == "colleague"
    page = auditor.get(reverse("transfers:log")).content.decode()
    assert "Kargo Lojistik A.Ş." in page.split('id="transfers"')[1]


def test_a_refused_transfer_shows_the_reason_and_saves_nothing(colleague, acme):
    with tenant_context(acme):
        recipient, ayse = abroad_recipient(), subject()

    response = colleague.post(reverse("transfers:transfer_create"), _form(recipient, [ayse]))

    assert response.status_code == 200 and "alert-danger" in response.content.decode()
    with tenant_context(acme):
        assert not Transfer.objects.exists()
        assert AuditEntry.objects.filter(detail__event="transfer_refused").exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"subject_refs": "not-a-uuid"},
        {"subject_refs": "00000000-0000-0000-0000-000000000000"},
        {"subject_refs": ""},
        {"recipient": "999999"},
        {"legal_basis": "art9"},
        {"informed_at": "2999-01-01T10:00"},
        {"categories": ["x"]},
    ],
)
def test_bad_form_input_is_refused_next_to_the_field(colleague, acme, fields):
    with tenant_context(acme):
        recipient, ayse = home_recipient(), subject()

    response = colleague.post(
        reverse("transfers:transfer_create"), _form(recipient, [ayse], **fields)
    )

    assert response.status_code == 200 and "invalid-feedback" in response.content.decode()
    with tenant_context(acme):
        assert not Transfer.objects.exists()


def test_auditors_read_the_log_but_record_nothing(auditor, acme):
    with tenant_context(acme):
        recipient, ayse = home_recipient(), subject()
    assert auditor.get(reverse("transfers:log")).status_code == 200
    assert auditor.get(reverse("transfers:transfer_create")).status_code == 403
    response = auditor.post(reverse("transfers:transfer_create"), _form(recipient, [ayse]))
    assert response.status_code == 403
    with tenant_context(acme):
        assert not Transfer.objects.exists()


def test_another_controller_sees_no_transfer_and_cannot_use_its_recipients(
    colleague, outsider, acme
):
    with tenant_context(acme):
        recipient, ayse = home_recipient(), subject()
    colleague.post(reverse("transfers:transfer_create"), _form(recipient, [ayse]))

    assert "Kargo Lojistik" not in outsider.get(reverse("transfers:log")).content.decode()
    response = outsider.post(reverse("transfers:transfer_create"), _form(recipient, [ayse]))
    assert response.status_code == 200 and "invalid-feedback" in response.content.decode()


def test_the_log_filters_by_place_and_its_queries_do_not_grow_with_rows(
    owner, acme, django_assert_max_num_queries
):
    with tenant_context(acme):
        home = home_recipient()
        abroad = abroad_recipient(route=AbroadRoute.ADEQUACY, adequacy_reference="Karar 2026/1")
        people = [subject() for _ in range(3)]
        for person in people:
            _record(home, [person])
        _record(abroad, people)

    page = owner.get(reverse("transfers:log"), {"where": "abroad"}).content.decode()
    table = page.split('id="transfers"')[1]
    assert "Cloud GmbH" in table and "Kargo Lojistik" not in table
    with django_assert_max_num_queries(20):
        owner.get(reverse("transfers:log"))
    with tenant_context(acme):
        for person in people:
            _record(home, [person])
    with django_assert_max_num_queries(20):
        owner.get(reverse("transfers:log"))


def test_the_overview_links_recipients_and_the_log(auditor):
    page = auditor.get(reverse("transfers:index")).content.decode()
    assert reverse("transfers:recipients") in page and reverse("transfers:log") in page
