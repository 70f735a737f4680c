"""Staff pages of the register: search by reference, read only with a stated purpose."""

import base64
import re
from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import Action, AuditEntry
from subjects import services, validation
from subjects.models import ApiToken, DataSubject
from tests.subjects.conftest import TCKN_AYSE, TCKN_MEHMET, ApiClient, make_token, subject_record


def _ingest(tenant, *records) -> list[str]:
    with tenant_context(tenant):
        result = services.register_ingest(
            inputs=validation.records_validate(records=list(records)), source="test"
        )
    return [str(uuid) for uuid in result.subjects]


def test_list_shows_references_but_no_personal_values(owner, acme):
    item = subject_record()["items"][0]
    ayse, mehmet = _ingest(
        acme,
        subject_record(),
        subject_record(
            tckn=TCKN_MEHMET,
            identifiers={"tckn": TCKN_MEHMET},
            name="Mehmet Demir",
            items=[item, {**item, "value": "Gül Sok. No:7"}],
        ),
    )
    response = owner.get(reverse("subjects:index"))
    page = response.content.decode()
    rows = {(str(s.uuid), s.group.name, s.item_count) for s in response.context["page"]}
    assert rows == {(ayse, "Müşteriler", 1), (mehmet, "Müşteriler", 2)}
    for uuid in (ayse, mehmet):
        assert reverse("subjects:detail", args=[uuid]) in page
    assert "Ayşe" not in page and "Mehmet" not in page and TCKN_AYSE not in page


def test_search_by_identifier_finds_exactly_that_subject(owner, acme):
    ayse, _mehmet = _ingest(
        acme, subject_record(), subject_record(tckn=TCKN_MEHMET, identifiers={"tckn": TCKN_MEHMET})
    )
    response = owner.post(reverse("subjects:index"), {"q": TCKN_AYSE})
    assert [(m.kind, str(m.subject.uuid)) for m in response.context["matches"]] == [("tckn", ayse)]
    empty = owner.post(reverse("subjects:index"), {"q": "nobody@example.com"})
    assert empty.context["matches"] == []
    assert "Bu tanımlayıcıya sahip ilgili kişi yok." in empty.content.decode()


def test_identifiers_never_travel_in_urls(owner, acme):
    _ingest(acme, subject_record())
    response = owner.get(reverse("subjects:index"), {"q": TCKN_AYSE})
    assert response.context["matches"] is None  # a query string is not a search
    page = response.content.decode()
    assert 'method="post"' in page.split('id="subject-search"')[0][-200:] + page


def test_a_value_of_several_kinds_lists_every_match_with_its_kind(owner, acme):
    # "5321234567" is a phone number of one subject and the customer number of another
    phone_owner, number_owner = _ingest(
        acme,
        {"group": "customer", "name": "Bir", "identifiers": {"phone": "5321234567"}},
        {"group": "customer", "name": "İki", "identifiers": {"customer_no": "5321234567"}},
    )
    response = owner.post(reverse("subjects:index"), {"q": "5321234567"})
    found = [(m.kind, str(m.subject.uuid)) for m in response.context["matches"]]
    assert found == [("phone", phone_owner), ("customer_no", number_owner)]
    page = response.content.decode()
    assert "Telefon" in page and "Müşteri numarası" in page


def test_reading_a_subject_needs_a_purpose_and_is_logged(colleague, acme):
    [uuid] = _ingest(acme, subject_record())
    url = reverse("subjects:detail", args=[uuid])
    assert "Ayşe" not in colleague.get(url).content.decode()

    too_short = colleague.post(url, {"purpose": "x"})
    assert too_short.context["form"].errors and "Ayşe" not in too_short.content.decode()
    posted = colleague.post(url, {"purpose": "Başvuru 2025-17 yanıtı"})
    assert posted.status_code == 302  # POST, then redirect to the read view
    response = colleague.get(posted["Location"])
    reloaded = colleague.get(posted["Location"])

    for page in (response, reloaded):
        assert "Ayşe Yılmaz" in page.content.decode()
        assert "Çiçek Sok. No:5" in page.content.decode()
    with tenant_context(acme):
        reads = AuditEntry.objects.filter(action=Action.READ, subject_ref=uuid)
        assert [(r.actor_label, r.purpose) for r in reads] == [
            ("colleague", "Başvuru 2025-17 yanıtı")
        ]  # one read, however often the page is shown


def test_a_read_view_belongs_to_its_reader_and_expires(colleague, owner, acme):
    [uuid] = _ingest(acme, subject_record())
    read = colleague.post(reverse("subjects:detail", args=[uuid]), {"purpose": "Başvuru yanıtı"})
    assert owner.get(read["Location"]).status_code == 404
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert colleague.get(read["Location"]).status_code == 404


def test_subject_of_another_tenant_is_not_found(outsider, acme):
    [uuid] = _ingest(acme, subject_record())
    assert outsider.get(reverse("subjects:detail", args=[uuid])).status_code == 404


def test_destroyed_subject_shows_that_nothing_can_be_read(owner, acme):
    [uuid] = _ingest(acme, subject_record())
    with tenant_context(acme):
        services.subject_key_destroy(subject=DataSubject.objects.get(uuid=uuid), reason="test")
    page = owner.get(reverse("subjects:detail", args=[uuid])).content.decode()
    assert "tarihinde imha edildi. Artık hiçbir veri okunamaz." in page
    assert 'name="purpose"' not in page  # no way to ask for a read

    response = owner.post(
        reverse("subjects:detail", args=[uuid]), {"purpose": "Yine de okumak istiyorum"}
    )
    assert "Ayşe" not in response.content.decode() and "Çiçek" not in response.content.decode()


def test_list_query_count_does_not_grow_with_rows(owner, acme, django_assert_max_num_queries):
    _ingest(
        acme,
        *[
            subject_record(tckn=t, identifiers={"customer_no": f"C-{i}"})
            for i, t in enumerate([TCKN_AYSE] * 1)
        ],
    )
    _ingest(
        acme,
        *[
            {"group": "customer", "name": f"Kişi {i}", "identifiers": {"customer_no": f"M-{i}"}}
            for i in range(40)
        ],
    )
    with django_assert_max_num_queries(12):
        owner.get(reverse("subjects:index"))


def test_admin_creates_a_token_that_works_once_shown_and_revokes_it(owner, acme):
    response = owner.post(
        reverse("subjects:tokens"), {"name": "ERP", "scope": ApiToken.Scope.WRITE}
    )
    raw = response.context["raw"]
    assert raw.startswith("kvkk_") and raw in response.content.decode()
    assert raw not in owner.get(reverse("subjects:tokens")).content.decode()

    api = ApiClient(acme.host, raw)
    assert api.post(reverse("api:subject_upsert"), subject_record()).status_code == 201
    with tenant_context(acme):
        token = ApiToken.objects.get(name="ERP")
        assert token.token_hash != raw and raw not in token.token_hash
    owner.post(reverse("subjects:token_revoke", args=[token.pk]))
    assert api.post(reverse("api:lookup"), {"value": TCKN_AYSE}).status_code == 401


def test_a_tokens_name_is_not_labelled_as_a_persons_name(owner):
    page = owner.get(reverse("subjects:tokens")).content.decode()
    assert "<th>Ad</th>" in page
    assert '<label class="form-label" for="id_name">Ad</label>' in page
    assert "Ad soyad" not in page


def test_only_controller_admins_manage_tokens(colleague, auditor):
    for client in (colleague, auditor):
        assert client.get(reverse("subjects:tokens")).status_code == 403
        assert (
            client.post(reverse("subjects:tokens"), {"name": "x", "scope": "write"}).status_code
            == 403
        )


def test_searching_by_identifier_is_logged_without_the_identifier(owner, acme):
    [uuid] = _ingest(acme, subject_record())
    owner.post(reverse("subjects:index"), {"q": TCKN_AYSE})
    with tenant_context(acme):
        entry = AuditEntry.objects.filter(action=Action.READ).latest("id")
    assert (entry.actor_label, entry.subject_ref, entry.detail["found"]) == ("owner", uuid, 1)
    assert TCKN_AYSE not in str(entry.detail)


def test_attachment_downloads_with_the_stated_purpose_and_only_by_a_fresh_signed_link(
    colleague, acme
):
    api = ApiClient(acme.host, make_token(acme))
    uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]
    content = "Dilekçe – gizli içerik".encode()
    api.post(
        reverse("api:interactions", args=[uuid]),
        {
            "kind": "message",
            "purpose": "complaints",
            "occurred_at": "2025-05-05T12:00:00+03:00",
            "text": "Dilekçe ekte.",
            "attachment": {
                "name": "dilekçe.pdf",
                "content_base64": base64.b64encode(content).decode(),
            },
        },
    )

    read = colleague.post(
        reverse("subjects:detail", args=[uuid]), {"purpose": "Başvuru 2025-31 yanıtı"}
    )
    page = colleague.get(read["Location"]).content.decode()
    link = re.search(r'href="(/subjects/attachment/[^"]+/)"', page).group(1)
    assert "Başvuru" not in link  # the purpose stays on the server
    download = colleague.get(link)

    assert download.status_code == 200 and download.content == content
    assert (
        "dil" in download["Content-Disposition"] and "attachment" in download["Content-Disposition"]
    )
    with tenant_context(acme):
        export = AuditEntry.objects.filter(action=Action.EXPORT).latest("id")
    assert (export.actor_label, export.purpose, export.subject_ref) == (
        "colleague",
        "Başvuru 2025-31 yanıtı",
        uuid,
    )
    assert colleague.get(link[:-3] + "xx/").status_code == 404
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert colleague.get(link).status_code == 404


def test_a_download_link_opens_nothing_for_another_user_or_on_another_host(
    colleague, owner, outsider, acme, globex
):
    # given: the same attachment id exists on both hosts, and colleague holds a link on acme's
    links = {}
    for tenant in (acme, globex):
        api = ApiClient(tenant.host, make_token(tenant))
        uuid = api.post(reverse("api:subject_upsert"), subject_record()).json()["subjects"][0]
        api.post(
            reverse("api:interactions", args=[uuid]),
            {
                "kind": "message",
                "purpose": "complaints",
                "occurred_at": "2025-05-05T12:00:00+03:00",
                "text": "Ekte.",
                "attachment": {"name": "a.txt", "content_base64": base64.b64encode(b"x").decode()},
            },
        )
        links[tenant.schema_name] = uuid
    read = colleague.post(reverse("subjects:detail", args=[links["acme"]]), {"purpose": "Yanıt"})
    page = colleague.get(read["Location"]).content.decode()
    link = re.search(r'href="(/subjects/attachment/[^"]+/)"', page).group(1)

    # when / then: replayed by another user, or on another controller's host
    assert owner.get(link).status_code == 404
    assert outsider.get(link).status_code == 404
    assert colleague.get(link).status_code == 200
    with tenant_context(globex):
        assert not AuditEntry.objects.filter(action=Action.EXPORT).exists()
