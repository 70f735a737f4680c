"""The disclosure-request desk (C9): only a binding request, authorised by two different
controller admins with a current code, is ever exported; everything else gets a letter."""

import io
import json
import subprocess
import zipfile
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from audit.models import AuditEntry
from config.errors import PortalError
from subjects.models import DataCategory, ProcessingPurpose
from tests.conftest import portal_client
from tests.factories import staff_create, totp_now
from tests.retention.register import item, subject
from transfers import disclosure as desk
from transfers.models import DisclosureAuthorisation, DisclosureRequest, DisclosureStatus

pytestmark = pytest.mark.django_db

Status = DisclosureStatus


def _code(user: User, *, ahead: int = 0) -> str:
    return totp_now(TOTPDevice.objects.get(user=user), offset_steps=ahead)


def _request(*, kind: str = "court", email: str | None = None) -> DisclosureRequest:
    """A request of a court for one subject's contact data (the current schema)."""
    held = subject(
        item("contact", value="Çiçek Sok. No:5 Kadıköy"),
        item("identity", value="Doğum: 01.02.1980"),
        identifier=email,
    )
    return desk.disclosure_register(
        requester_name="İstanbul 3. Asliye Ceza Mahkemesi",
        requester_kind=kind,
        instrument="2026/123 Esas sayılı müzekkere",
        subject_ids=[held.pk],
        category_ids=[DataCategory.objects.get(code="contact").pk],
        received_at=timezone.now() - timedelta(hours=2),
        actor=User.objects.get(username="colleague"),
    )


def _binding(disclosure: DisclosureRequest) -> DisclosureRequest:
    return desk.disclosure_classify(
        disclosure=disclosure,
        binding=True,
        provision="5271 sayılı CMK m. 332",
        ground="art5_2_a",
        purpose=_authorities(),
        actor=User.objects.get(username="colleague"),
    )


def _authorities() -> ProcessingPurpose:
    """The controller's declared purpose for answering authorities (VERBIS names it so)."""
    return ProcessingPurpose.objects.get_or_create(
        code="authorities",
        defaults={"name": "Yetkili kişi, kurum ve kuruluşlara bilgi verilmesi"},
    )[0]


@pytest.fixture
def admins(acme):
    """The two controller admins of acme: the owner and a second one."""
    with tenant_context(acme):
        second = staff_create(schema="acme", username="secondadmin", role=Role.CONTROLLER_ADMIN)
        return User.objects.get(username="owner"), second


def test_a_binding_request_needs_two_different_admins_and_one_cannot_approve_twice(acme, admins):
    first, second = admins
    with tenant_context(acme):
        disclosure = _binding(_request())
        desk.disclosure_authorise(disclosure=disclosure, user=first, token=_code(first))
        with pytest.raises(PortalError) as refused:
            desk.disclosure_authorise(
                disclosure=disclosure, user=first, token=_code(first, ahead=1)
            )
        assert refused.value.code == "already_authorised"
        disclosure.refresh_from_db()
        assert disclosure.status == Status.BINDING
        assert DisclosureAuthorisation.objects.filter(disclosure=disclosure).count() == 1

        desk.disclosure_authorise(disclosure=disclosure, user=second, token=_code(second))
        disclosure.refresh_from_db()
        assert disclosure.status == Status.AUTHORISED
        assert {row.user for row in disclosure.authorisations.all()} == {first, second}


def test_a_wrong_code_changes_nothing(acme, admins):
    first, _second = admins
    with tenant_context(acme):
        disclosure = _binding(_request())
        logged = AuditEntry.objects.count()
        with pytest.raises(PortalError) as refused:
            desk.disclosure_authorise(disclosure=disclosure, user=first, token="000000")
        assert refused.value.field == "token"
        assert not DisclosureAuthorisation.objects.exists()
        assert AuditEntry.objects.count() == logged


def test_officers_and_auditors_cannot_authorise(acme):
    with tenant_context(acme):
        disclosure = _binding(_request())
        for username in ("colleague", "auditor"):
            user = User.objects.get(username=username)
            with pytest.raises(PortalError) as refused:
                desk.disclosure_authorise(disclosure=disclosure, user=user, token=_code(user))
            assert refused.value.status == 403
        assert not DisclosureAuthorisation.objects.exists()


def test_an_unclassified_request_cannot_be_authorised_or_exported(acme, admins):
    first, _second = admins
    with tenant_context(acme):
        disclosure = _request()
        with pytest.raises(PortalError) as refused:
            desk.disclosure_authorise(disclosure=disclosure, user=first, token=_code(first))
        assert refused.value.code == "not_binding"
        with pytest.raises(PortalError):
            desk.disclosure_export(disclosure=disclosure, actor=first)


def _letter_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    result = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60
    )
    return result.stdout.decode()


def test_a_non_binding_request_is_rejected_with_a_turkish_letter_and_nothing_is_disclosed(
    acme, admins
):
    first, second = admins
    with tenant_context(acme):
        disclosure = desk.disclosure_classify(
            disclosure=_request(kind="company"),
            binding=False,
            note="Talep bir hukuki yükümlülüğe dayanmamaktadır.",
            actor=User.objects.get(username="colleague"),
        )
        assert disclosure.status == Status.REJECTED
        text = " ".join(_letter_text(desk.rejection_letter_pdf(disclosure=disclosure)).split())
        for user in (first, second):
            with pytest.raises(PortalError) as refused:
                desk.disclosure_authorise(disclosure=disclosure, user=user, token=_code(user))
            assert refused.value.code == "rejected"
        with pytest.raises(PortalError) as refused:
            desk.disclosure_export(disclosure=disclosure, actor=first)
        assert refused.value.code == "rejected"
        assert not DisclosureAuthorisation.objects.exists()
        assert not AuditEntry.objects.filter(action="export").exists()
        assert not AuditEntry.objects.filter(action="transfer").exists()
    assert "Deneme Acme" in text or "Acme" in text  # the controller
    assert "İstanbul 3. Asliye Ceza Mahkemesi" in text  # the requester
    assert "hukuki yükümlülük" in text  # the reason: no legal obligation to disclose
    assert "6698" in text and "madde 8" in text.lower()  # the KVKK basis
    assert "reddedil" in text


def test_a_rejected_request_cannot_be_classified_again(acme):
    with tenant_context(acme):
        officer = User.objects.get(username="colleague")
        disclosure = desk.disclosure_classify(disclosure=_request(), binding=False, actor=officer)
        with pytest.raises(PortalError) as refused:
            desk.disclosure_classify(
                disclosure=disclosure,
                binding=True,
                provision="CMK m. 332",
                ground="art5_2_a",
                actor=officer,
            )
        assert refused.value.code == "classified"
        disclosure.refresh_from_db()
        assert disclosure.status == Status.REJECTED


def test_a_binding_classification_needs_a_provision_a_ground_and_a_purpose(acme):
    with tenant_context(acme):
        officer = User.objects.get(username="colleague")
        disclosure = _request()
        with pytest.raises(PortalError) as refused:
            desk.disclosure_classify(disclosure=disclosure, binding=True, actor=officer)
        assert refused.value.field == "provision"
        with pytest.raises(PortalError) as refused:
            desk.disclosure_classify(
                disclosure=disclosure, binding=True, provision="CMK m. 332", actor=officer
            )
        assert refused.value.field == "ground"
        with pytest.raises(PortalError) as refused:
            desk.disclosure_classify(
                disclosure=disclosure,
                binding=True,
                provision="CMK m. 332",
                ground="art5_2_c2",
                actor=officer,
            )
        assert refused.value.field == "purpose"
        disclosure.refresh_from_db()
        assert disclosure.status == Status.RECEIVED


def _authorised(first, second) -> DisclosureRequest:
    disclosure = _binding(_request())
    desk.disclosure_authorise(disclosure=disclosure, user=first, token=_code(first))
    desk.disclosure_authorise(disclosure=disclosure, user=second, token=_code(second))
    return disclosure


def test_the_export_is_logged_as_a_transfer_and_in_the_processing_log(acme, admins):
    from transfers.models import Transfer

    first, second = admins
    with tenant_context(acme):
        disclosure = _authorised(first, second)
        export = desk.disclosure_export(disclosure=disclosure, actor=second)
        held = disclosure.subjects.get()
        with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
            data = json.loads(archive.read("data.json"))
            csv_text = archive.read("data.csv").decode()
        assert [row["value"] for row in data["items"]] == ["Çiçek Sok. No:5 Kadıköy"]
        assert "Doğum" not in csv_text  # identity data was not asked for
        transfer = Transfer.objects.get()
        assert transfer.recipient.name == "İstanbul 3. Asliye Ceza Mahkemesi"
        assert transfer.recipient.kind == "public_authority"
        assert list(transfer.subjects.all()) == [held]
        entry = AuditEntry.objects.get(action="export", subject_ref=str(held.uuid))
        assert entry.actor_label == "secondadmin"
        disclosure.refresh_from_db()
        assert disclosure.status == Status.DISCLOSED
        assert disclosure.disclosed_by == second


def test_only_an_admin_who_authorised_may_export(acme, admins):
    first, second = admins
    with tenant_context(acme):
        third = staff_create(schema="acme", username="thirdadmin", role=Role.CONTROLLER_ADMIN)
        disclosure = _authorised(first, second)
        with pytest.raises(PortalError) as refused:
            desk.disclosure_export(disclosure=disclosure, actor=third)
        assert refused.value.status == 403
        assert not AuditEntry.objects.filter(action="export").exists()


def test_one_authorisation_is_not_enough_to_export(acme, admins):
    first, _second = admins
    with tenant_context(acme):
        disclosure = _binding(_request())
        desk.disclosure_authorise(disclosure=disclosure, user=first, token=_code(first))
        with pytest.raises(PortalError) as refused:
            desk.disclosure_export(disclosure=disclosure, actor=first)
        assert refused.value.code == "not_authorised"


# --- Pages -------------------------------------------------------------------------------


def _url(tenant, name: str, **kwargs) -> str:
    with tenant_context(tenant):
        return reverse(f"transfers:{name}", kwargs=kwargs or None)


def test_an_officer_registers_a_request_by_a_subjects_identifier(acme, colleague):
    with tenant_context(acme):
        subject(item("contact"), identifier="aranan@ornek.com.tr")
        contact = DataCategory.objects.get(code="contact").pk
    page = colleague.post(
        _url(acme, "disclosure_register"),
        {
            "requester_name": "Emniyet Müdürlüğü",
            "requester_kind": "police",
            "instrument": "E-12345 sayılı yazı",
            "received_at": "2026-01-05T09:30",
            "identifiers": "aranan@ornek.com.tr\n",
            "categories": [contact],
        },
    )
    assert page.status_code == 302
    with tenant_context(acme):
        disclosure = DisclosureRequest.objects.get()
        assert disclosure.requester_kind == "police"
        assert disclosure.subjects.count() == 1
        assert AuditEntry.objects.filter(detail__event="disclosure_registered").exists()
    detail = colleague.get(page["Location"]).content.decode()
    assert "Emniyet Müdürlüğü" in detail and 'id="classify"' in detail


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("identifiers", "yok@ornek.com.tr"),  # nobody held with it
        ("identifiers", "   \n  "),
        ("identifiers", "\n".join(f"k{n}@ornek.com.tr" for n in range(201))),
        ("period_end", "2020-01-01"),  # before the period's start
        ("received_at", "2999-01-01T10:00"),  # in the future
        ("received_at", "dün"),
        ("requester_kind", "alien"),
        ("requester_name", "x" * 201),
        ("categories", "999999999999"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_saved(acme, colleague, field, value):
    with tenant_context(acme):
        subject(item("contact"), identifier="var@ornek.com.tr")
        contact = DataCategory.objects.get(code="contact").pk
    data = {
        "requester_name": "Bir Avukat",
        "requester_kind": "lawyer",
        "instrument": "Vekaletname",
        "received_at": "2026-01-05T09:30",
        "identifiers": "var@ornek.com.tr",
        "categories": [contact],
        "period_start": "2021-01-01",
        "period_end": "2022-01-01",
        field: value,
    }
    page = colleague.post(_url(acme, "disclosure_register"), data)
    assert page.status_code == 200
    assert list(page.context["form"].errors) == [field]
    assert "invalid-feedback" in page.content.decode()
    with tenant_context(acme):
        assert not DisclosureRequest.objects.exists()


def test_classify_with_a_binding_answer_but_no_provision_shows_the_error(acme, colleague):
    with tenant_context(acme):
        disclosure = _request()
    page = colleague.post(
        _url(acme, "disclosure_classify", pk=disclosure.pk),
        {"binding": "yes", "provision": "", "ground": "art5_2_a"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert page.status_code == 400
    assert page.context["classify_form"].errors["provision"] == [str(desk.PROVISION_MISSING)]
    with tenant_context(acme):
        disclosure.refresh_from_db()
        assert disclosure.status == Status.RECEIVED


def test_admins_authorise_in_the_portal_and_download_the_export(acme, admins, owner):
    first, second = admins
    with tenant_context(acme):
        disclosure = _binding(_request())
    url = _url(acme, "disclosure_authorise", pk=disclosure.pk)
    wrong = owner.post(url, {"token": "12"})
    assert wrong.status_code == 400
    assert "token" in wrong.context["authorise_form"].errors
    with tenant_context(acme):
        assert not DisclosureAuthorisation.objects.exists()
        # The wrong code slowed further tries down (django-otp's throttle); time passes.
        TOTPDevice.objects.get(user=first).throttle_reset()
        code = _code(first)
    assert owner.post(url, {"token": code}).status_code == 302
    again = owner.post(url, {"token": code})
    assert again.context["authorise_form"].non_field_errors() == [str(desk.ALREADY_AUTHORISED)]
    other = portal_client(acme, "secondadmin")
    with tenant_context(acme):
        code = _code(second)
    assert other.post(url, {"token": code}).status_code == 302
    download = other.post(_url(acme, "disclosure_export", pk=disclosure.pk))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(download.content)).namelist() == ["data.csv", "data.json"]


def test_auditors_read_the_desk_but_change_nothing(acme, auditor):
    with tenant_context(acme):
        disclosure = _binding(_request())
    assert auditor.get(_url(acme, "disclosure_list")).status_code == 200
    page = auditor.get(_url(acme, "disclosure_detail", pk=disclosure.pk))
    assert page.status_code == 200
    assert 'id="authorise"' not in page.content.decode()
    for name in ("disclosure_classify", "disclosure_authorise", "disclosure_export"):
        assert auditor.post(_url(acme, name, pk=disclosure.pk), {"token": "1"}).status_code == 403
    assert auditor.get(_url(acme, "disclosure_register")).status_code == 403


def test_an_officer_cannot_authorise_or_export_in_the_portal(acme, colleague):
    with tenant_context(acme):
        disclosure = _binding(_request())
    for name in ("disclosure_authorise", "disclosure_export"):
        assert colleague.post(_url(acme, name, pk=disclosure.pk), {"token": "1"}).status_code == 403


def test_the_list_filters_by_status(acme, auditor):
    with tenant_context(acme):
        officer = User.objects.get(username="colleague")
        desk.disclosure_classify(disclosure=_request(kind="lawyer"), binding=False, actor=officer)
        _binding(_request())
    rejected = auditor.get(_url(acme, "disclosure_list") + "?status=rejected").content.decode()
    assert rejected.count('data-status="rejected"') == 1
    assert 'data-status="binding"' not in rejected
    everything = auditor.get(_url(acme, "disclosure_list") + "?status=nonsense").content.decode()
    assert everything.count("data-status=") == 2


def test_the_letter_of_a_rejected_request_downloads_and_a_binding_one_has_none(acme, auditor):
    with tenant_context(acme):
        officer = User.objects.get(username="colleague")
        rejected = desk.disclosure_classify(disclosure=_request(), binding=False, actor=officer)
        binding = _binding(_request())
    letter = auditor.get(_url(acme, "disclosure_letter", pk=rejected.pk))
    assert letter.status_code == 200 and letter.content.startswith(b"%PDF")
    assert auditor.get(_url(acme, "disclosure_letter", pk=binding.pk)).status_code == 404


def test_another_controller_never_sees_or_touches_acmes_requests(acme, globex, outsider):
    with tenant_context(acme):
        disclosure = _binding(_request())
    with tenant_context(globex):
        assert not DisclosureRequest.objects.exists()
    assert outsider.get(_url(globex, "disclosure_detail", pk=disclosure.pk)).status_code == 404
    assert (
        outsider.post(
            _url(globex, "disclosure_authorise", pk=disclosure.pk), {"token": "123456"}
        ).status_code
        == 404
    )
    listing = outsider.get(_url(globex, "disclosure_list")).content.decode()
    assert "Asliye Ceza" not in listing


def test_an_absurd_request_number_answers_404(acme, auditor):
    assert auditor.get(_url(acme, "disclosure_list") + "99999999999999999999/").status_code == 404


def test_every_step_enters_the_processing_log(acme, admins):
    first, second = admins
    with tenant_context(acme):
        disclosure = _authorised(first, second)
        desk.disclosure_export(disclosure=disclosure, actor=first)
        events = list(
            AuditEntry.objects.filter(
                object_type="transfers.DisclosureRequest", object_id=str(disclosure.pk)
            )
            .order_by("pk")
            .values_list("detail__event", "actor_label")
        )
    assert events == [
        ("disclosure_registered", "colleague"),
        ("disclosure_classified", "colleague"),
        ("disclosure_authorised", "owner"),
        ("disclosure_authorised", "secondadmin"),
        ("disclosure_exported", "owner"),  # the subject's own entry (Action.EXPORT)
        ("disclosure_exported", "owner"),  # the request's
    ]


def test_special_categories_in_scope_are_disclosed_on_art_6_3_b(acme, admins):
    from transfers.models import Transfer

    first, second = admins
    with tenant_context(acme):
        health = {**item("health", value="Kan grubu: 0 Rh+"), "legal_basis": "art6_3"}
        held = subject(health, item("contact"))
        disclosure = desk.disclosure_register(
            requester_name="Ankara Cumhuriyet Başsavcılığı",
            requester_kind="prosecutor",
            instrument="Soruşturma 2026/77",
            subject_ids=[held.pk],
            category_ids=[DataCategory.objects.get(code="health").pk],
            received_at=timezone.now(),
            actor=first,
        )
        _binding(disclosure)
        desk.disclosure_authorise(disclosure=disclosure, user=first, token=_code(first))
        desk.disclosure_authorise(disclosure=disclosure, user=second, token=_code(second))
        export = desk.disclosure_export(disclosure=disclosure, actor=first)
        transfer = Transfer.objects.get()
        assert (transfer.legal_basis, transfer.ground) == ("art8_2_b", "art6_3_b")
    data = json.loads(zipfile.ZipFile(io.BytesIO(export.content)).read("data.json"))
    assert [row["value"] for row in data["items"]] == ["Kan grubu: 0 Rh+"]


def test_the_export_holds_only_the_period_asked_for(acme, admins):
    first, second = admins
    with tenant_context(acme):
        held = subject(
            item("contact", value="Eski adres", collected=timezone.now() - timedelta(days=800)),
            item("contact", value="Yeni adres", collected=timezone.now() - timedelta(days=10)),
        )
        disclosure = desk.disclosure_register(
            requester_name="Bir Mahkeme",
            requester_kind="court",
            instrument="Müzekkere",
            subject_ids=[held.pk],
            category_ids=[DataCategory.objects.get(code="contact").pk],
            received_at=timezone.now(),
            period_start=(timezone.now() - timedelta(days=100)).date(),
            actor=first,
        )
        _binding(disclosure)
        desk.disclosure_authorise(disclosure=disclosure, user=first, token=_code(first))
        desk.disclosure_authorise(disclosure=disclosure, user=second, token=_code(second))
        export = desk.disclosure_export(disclosure=disclosure, actor=second)
    data = json.loads(zipfile.ZipFile(io.BytesIO(export.content)).read("data.json"))
    assert [row["value"] for row in data["items"]] == ["Yeni adres"]


def test_a_ground_outside_art_5_2_a_and_c_is_refused(acme):
    with tenant_context(acme):
        disclosure = _request()
        with pytest.raises(PortalError) as refused:
            desk.disclosure_classify(
                disclosure=disclosure,
                binding=True,
                provision="Yok",
                ground="art5_2_f",  # a legitimate interest never obliges a disclosure
                purpose=_authorities(),
                actor=User.objects.get(username="colleague"),
            )
        assert refused.value.field == "ground"


def test_the_list_needs_the_same_queries_for_many_requests(
    acme, auditor, django_assert_max_num_queries
):
    with tenant_context(acme):
        _request()
    url = _url(acme, "disclosure_list")
    with django_assert_max_num_queries(12) as few:
        auditor.get(url)
    with tenant_context(acme):
        for _number in range(5):
            _request()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert auditor.get(url).content.decode().count("data-status=") == 6


def test_a_refused_transfer_discloses_nothing_and_the_refusal_stays_in_the_log(acme, admins):
    from transfers.models import Recipient, Transfer

    first, second = admins
    with tenant_context(acme):
        # The requester is in the recipient register abroad, with no Art. 9 route.
        Recipient.objects.create(name="Örnek Hukuk GmbH", kind="other", country="DE")
        held = subject(item("contact"))
        disclosure = desk.disclosure_register(
            requester_name="Örnek Hukuk GmbH",
            requester_kind="company",
            instrument="Schreiben vom 1.12.2026",
            subject_ids=[held.pk],
            category_ids=[DataCategory.objects.get(code="contact").pk],
            received_at=timezone.now(),
            actor=first,
        )
        _binding(disclosure)
        desk.disclosure_authorise(disclosure=disclosure, user=first, token=_code(first))
        desk.disclosure_authorise(disclosure=disclosure, user=second, token=_code(second))
        with pytest.raises(PortalError) as refused:
            desk.disclosure_export(disclosure=disclosure, actor=first)
        assert refused.value.code == "transfer_refused"
        disclosure.refresh_from_db()
        assert disclosure.status == Status.AUTHORISED
        assert not Transfer.objects.exists()
        assert AuditEntry.objects.filter(detail__event="transfer_refused").count() == 1
        assert not AuditEntry.objects.filter(action="export").exists()
        assert not AuditEntry.objects.filter(detail__event="disclosure_exported").exists()


def test_nothing_held_for_the_period_means_nothing_to_export(acme, admins):
    from transfers.models import Transfer

    first, second = admins
    with tenant_context(acme):
        held = subject(item("contact", collected=timezone.now() - timedelta(days=900)))
        disclosure = desk.disclosure_register(
            requester_name="Bir Mahkeme",
            requester_kind="court",
            instrument="Müzekkere",
            subject_ids=[held.pk],
            category_ids=[DataCategory.objects.get(code="contact").pk],
            received_at=timezone.now(),
            period_start=(timezone.now() - timedelta(days=30)).date(),
            actor=first,
        )
        _binding(disclosure)
        desk.disclosure_authorise(disclosure=disclosure, user=first, token=_code(first))
        desk.disclosure_authorise(disclosure=disclosure, user=second, token=_code(second))
        with pytest.raises(PortalError) as refused:
            desk.disclosure_export(disclosure=disclosure, actor=first)
        assert refused.value.code == "nothing_in_scope"
        assert not Transfer.objects.exists()


@pytest.mark.parametrize(
    ("language", "marks"),
    [
        ("tr", ["Bilgi ve belge talepleri", "Talep kaydet", "Bağlayıcı, onay bekliyor"]),
        ("en", ["Disclosure requests", "Register a request", "Binding, awaiting authorisation"]),
    ],
)
def test_the_desk_answers_in_turkish_and_english(acme, owner, language, marks):
    with tenant_context(acme):
        disclosure = _binding(_request())
        owner.post(reverse("accounts:set_language"), {"language": language, "next": "/"})
    urls = [
        _url(acme, "disclosure_list"),
        _url(acme, "disclosure_register"),
        _url(acme, "disclosure_detail", pk=disclosure.pk),
    ]
    pages = [owner.get(url) for url in urls]
    assert [page.status_code for page in pages] == [200, 200, 200]
    text = "".join(page.content.decode() for page in pages)
    assert f'<html lang="{language}">' in text
    for mark in marks:
        assert mark in text


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"binding": "maybe"}, "binding"),
        ({}, "binding"),
        ({"binding": "yes", "provision": "x" * 301, "ground": "art5_2_a"}, "provision"),
        ({"binding": "yes", "provision": "CMK m. 332", "ground": "art5_2_f"}, "ground"),
        ({"binding": "yes", "provision": "CMK m. 332", "ground": "art5_2_a"}, "purpose"),
        (
            {"binding": "yes", "provision": "CMK", "ground": "art5_2_a", "purpose": "99999999"},
            "purpose",
        ),
        ({"binding": "no", "note": "ş" * 2001}, "note"),
    ],
)
def test_a_bad_classification_is_refused_next_to_its_field_and_changes_nothing(
    acme, colleague, data, field
):
    with tenant_context(acme):
        disclosure = _request()
    page = colleague.post(_url(acme, "disclosure_classify", pk=disclosure.pk), data)
    assert page.status_code == 400
    assert field in page.context["classify_form"].errors
    with tenant_context(acme):
        disclosure.refresh_from_db()
        assert (disclosure.status, disclosure.is_binding) == (Status.RECEIVED, None)


@pytest.mark.parametrize("token", ["", "abcdef", "1" * 17, "12345\x00"])
def test_a_malformed_code_is_refused_and_authorises_nothing(acme, owner, token):
    with tenant_context(acme):
        disclosure = _binding(_request())
    page = owner.post(_url(acme, "disclosure_authorise", pk=disclosure.pk), {"token": token})
    assert page.status_code == 400
    assert page.context["authorise_form"].errors
    with tenant_context(acme):
        assert not DisclosureAuthorisation.objects.exists()


def test_pages_of_a_request_that_does_not_exist_answer_404(acme, owner):
    for name in ("disclosure_detail", "disclosure_letter"):
        assert owner.get(_url(acme, name, pk=424242)).status_code == 404
    for name in ("disclosure_classify", "disclosure_authorise", "disclosure_export"):
        assert owner.post(_url(acme, name, pk=424242), {"token": "1"}).status_code == 404
