"""A deleted item (the delete method) is unreachable for every user of the portal and the API."""

from django.urls import reverse
from django_tenants.utils import tenant_context

from retention import destruction, scan
from retention.models import DestructionRun
from subjects.models import DataSubject
from tests.retention.register import approve, item, items_of, rule, subject, years_ago
from tests.subjects.conftest import ApiClient, make_token

DELETED_VALUE = "Eski adres: Lale Sok. No:9 Üsküdar"
KEPT_VALUE = "Yeni adres: Gül Sok. No:3 Beşiktaş"


def _subject_with_a_deleted_item(acme) -> tuple[DataSubject, int]:
    with tenant_context(acme):
        rule("contact", period=1, method="delete")
        person = subject(
            item("contact", value=DELETED_VALUE, collected=years_ago(3)),
            item("identity", value=KEPT_VALUE),
        )
        deleted = items_of(person)[0]
        run = approve(scan.run_scan(kind=DestructionRun.Kind.PERIODIC))
        destruction.run_execute(run_id=run.pk)
        deleted.refresh_from_db()
        assert deleted.deleted_at is not None
        return person, deleted.pk


def test_the_portal_never_shows_a_deleted_item(acme, owner):
    person, _deleted = _subject_with_a_deleted_item(acme)
    detail = owner.get(reverse("subjects:detail", args=[person.uuid]))
    assert "· 1 kayıt ·" in detail.content.decode()  # the item count leaves it out
    read = owner.post(
        reverse("subjects:detail", args=[person.uuid]), {"purpose": "Başvuru yanıtı"}, follow=True
    )
    page = read.content.decode()
    assert KEPT_VALUE in page and DELETED_VALUE not in page


def test_the_api_never_returns_or_changes_a_deleted_item(acme):
    person, deleted = _subject_with_a_deleted_item(acme)
    api = ApiClient(acme.host, make_token(acme))
    body = api.get(
        reverse("api:subject", args=[person.uuid]), {"purpose": "Başvuru yanıtı"}
    ).content.decode()
    assert KEPT_VALUE in body and DELETED_VALUE not in body
    changed = api.patch(reverse("api:item", args=[deleted]), {"source_system": "erp"})
    assert changed.status_code == 404
