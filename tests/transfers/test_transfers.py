"""The transfer log: a transfer is recorded only on a valid Art. 8 basis and, abroad, an
Art. 9 route; anything else is refused with the reason, nothing is saved, and both the
transfer and the refusal appear in the processing log."""

import datetime

import pytest
from django.utils import timezone

from audit.models import Action, AuditEntry
from config.errors import PortalError
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


def _refused(recipient, subjects, **fields) -> str:
    before = Transfer.objects.count()
    with pytest.raises(PortalError) as refused:
        _record(recipient, subjects, **fields)
    assert refused.value.code == "transfer_refused"
    assert Transfer.objects.count() == before
    entry = AuditEntry.objects.filter(action=Action.TRANSFER).first()
    assert entry.detail["event"] == "transfer_refused"
    return str(refused.value)


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
    message = _refused(home_recipient(), [subject()], ground="")
    assert "5(2)" in message


def test_special_categories_are_refused_on_an_art5_ground(in_acme):
    message = _refused(home_recipient(), [subject("health")], categories=("health",))
    assert "Art. 6(3)" in message


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
    assert "special" in _refused(
        recipient, [subject()], legal_basis=TransferBasis.ART6_GROUND, ground="art6_3_b"
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
    message = _refused(abroad_recipient(), [subject()])
    assert "Art. 9" in message


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
    assert "5" in _refused(recipient, [subject()])


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
