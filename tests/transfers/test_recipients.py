"""The recipient register: controller admins keep it, everyone else reads; a recipient
abroad carries its Art. 9 route, and a standard contract notified late is flagged on the
list. Bad input is refused next to its field and nothing is saved."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import AuditEntry
from config.errors import PortalError
from tests.transfers.conftest import abroad_recipient, contract_recipient, home_recipient
from transfers import services
from transfers.models import Recipient

LIST = "transfers:recipients"
NEW = "transfers:recipient_create"


def _post(client, **fields):
    data = {"name": "Bulut Hizmetleri Ltd.", "kind": "sub_processor", "country": "TR", **fields}
    return client.post(reverse(NEW), data)


def test_an_admin_adds_a_recipient_at_home_and_the_route_fields_are_dropped(owner, acme):
    response = _post(owner, country="tr", route="adequacy", adequacy_reference="x")

    assert response.status_code == 302
    with tenant_context(acme):
        recipient = Recipient.objects.get()
        assert (recipient.country, recipient.is_abroad, recipient.route) == ("TR", False, "")
        assert AuditEntry.objects.filter(detail__event="recipient_create").exists()


def test_an_admin_adds_a_recipient_abroad_under_a_standard_contract(owner, acme):
    response = _post(
        owner,
        country="IE",
        route="safeguard",
        safeguard_type="standard_contract",
        contract_signed_on="2026-05-22",
        contract_notified_on="2026-06-03",
    )

    assert response.status_code == 302
    with tenant_context(acme):
        recipient = Recipient.objects.get()
        assert recipient.is_abroad and recipient.contract_signed_on == datetime.date(2026, 5, 22)


@pytest.mark.parametrize(
    ("fields", "field_id"),
    [
        ({"name": ""}, "id_name"),
        ({"country": "Türkiye"}, "id_country"),
        ({"country": "1X"}, "id_country"),
        ({"kind": "friend"}, "id_kind"),
        ({"country": "US", "route": "adequacy"}, "id_adequacy_reference"),
        ({"country": "US", "route": "safeguard"}, "id_safeguard_type"),
        (
            {"country": "US", "route": "safeguard", "safeguard_type": "standard_contract"},
            "id_contract_signed_on",
        ),
        (
            {
                "country": "US",
                "route": "safeguard",
                "safeguard_type": "standard_contract",
                "contract_signed_on": "2026-05-22",
                "contract_notified_on": "2026-05-01",
            },
            "id_contract_notified_on",
        ),
        (
            {
                "country": "US",
                "route": "safeguard",
                "safeguard_type": "standard_contract",
                "contract_signed_on": "2999-01-01",
            },
            "id_contract_signed_on",
        ),
        ({"country": "US", "route": "incidental"}, "id_incidental_ground"),
        ({"country": "US", "route": "safeguard", "contract_signed_on": "yarın"}, None),
        ({"name": "A\x00B"}, None),
    ],
)
def test_bad_input_is_refused_and_nothing_saved(owner, acme, fields, field_id):
    response = _post(owner, **fields)

    assert response.status_code == 200
    page = response.content.decode()
    assert "invalid-feedback" in page or "alert-danger" in page
    if field_id:
        after = page.split(f'id="{field_id}"')[1].split('class="mb-3"')[0]
        assert "invalid-feedback" in after
    with tenant_context(acme):
        assert not Recipient.objects.exists()


def test_an_admin_changes_a_recipients_route(owner, acme):
    with tenant_context(acme):
        recipient = abroad_recipient()
    response = owner.post(
        reverse("transfers:recipient_edit", args=[recipient.pk]),
        {
            "name": "Cloud GmbH",
            "kind": "sub_processor",
            "country": "DE",
            "route": "incidental",
            "incidental_ground": "b",
        },
    )
    assert response.status_code == 302
    with tenant_context(acme):
        recipient.refresh_from_db()
        assert (recipient.route, recipient.incidental_ground) == ("incidental", "b")


def test_officers_and_auditors_read_the_register_but_cannot_change_it(colleague, auditor, acme):
    with tenant_context(acme):
        recipient = home_recipient()
    for client in (colleague, auditor):
        assert client.get(reverse(LIST)).status_code == 200
        assert "Kargo Lojistik" in client.get(reverse(LIST)).content.decode()
        assert _post(client).status_code == 403
        edit = reverse("transfers:recipient_edit", args=[recipient.pk])
        assert client.post(edit, {"name": "x", "kind": "other", "country": "TR"}).status_code == 403
    with tenant_context(acme):
        assert Recipient.objects.get().name == "Kargo Lojistik A.Ş."


def test_another_controller_neither_sees_nor_changes_the_register(outsider, acme):
    with tenant_context(acme):
        recipient = home_recipient()
    assert "Kargo Lojistik" not in outsider.get(reverse(LIST)).content.decode()
    edit = reverse("transfers:recipient_edit", args=[recipient.pk])
    assert outsider.get(edit).status_code == 404
    assert outsider.post(edit, {"name": "x", "kind": "other", "country": "TR"}).status_code == 404
    with tenant_context(acme):
        assert Recipient.objects.get().name == "Kargo Lojistik A.Ş."


def test_the_list_flags_a_contract_notified_late_or_still_unnotified(owner, acme):
    today = timezone.localdate()
    with tenant_context(acme):
        contract_recipient(datetime.date(2026, 5, 22), datetime.date(2026, 6, 4))  # one day late
        in_time = contract_recipient(datetime.date(2026, 5, 22), datetime.date(2026, 6, 3))
        Recipient.objects.filter(pk=in_time.pk).update(name="Zamanında GmbH")
        pending = contract_recipient(today - datetime.timedelta(days=30))
        Recipient.objects.filter(pk=pending.pk).update(name="Bekleyen GmbH")
        fresh = contract_recipient(today)
        Recipient.objects.filter(pk=fresh.pk).update(name="Yeni GmbH")

    rows = owner.get(reverse(LIST)).content.decode().split("<tr>")[2:]
    flagged = {
        row.split("</td>")[0].split(">")[-2].split("<")[0]: "notification-late" in row
        for row in rows
    }

    assert flagged == {
        "Cloud GmbH": True,
        "Zamanında GmbH": False,
        "Bekleyen GmbH": True,
        "Yeni GmbH": False,
    }


def test_the_controllers_own_entry_cannot_be_changed(in_acme):
    own = services.controller_recipient()
    with pytest.raises(PortalError):
        services.recipient_update(recipient=own, actor=None, name="x", kind="other", country="TR")
