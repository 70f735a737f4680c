"""The access package and the letter built by a real worker, and the applicant's one-time
download of what was released."""

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from requests import letters, package
from requests.delivery import FOLLOW_SESSION_KEY
from requests.models import AccessPackage, AnswerLetter, Application, ApplicationCode, JobStatus
from tests.conftest import in_thread, portal_client
from tests.factories import staff_create
from tests.requests.helpers import pdf_text
from tests.requests.rights_setup import THIRD_PARTY, world

pytestmark = pytest.mark.django_db


def _follow_session(client: Client, application) -> None:
    now = timezone.now()
    code = ApplicationCode.objects.create(
        application=application,
        purpose=ApplicationCode.Purpose.FOLLOW,
        code_hash="-",
        medium="email",
        destination="a***@ornek.com.tr",
        created_at=now,
        expires_at=now + timedelta(minutes=10),
        used_at=now,
    )
    session = client.session
    session[FOLLOW_SESSION_KEY] = {str(application.uuid): code.pk}
    session.save()


def test_released_files_download_once_per_code_without_the_redacted_text(acme, sent_tasks):
    # given a package built, redacted and released, and a released letter
    with tenant_context(acme):
        w = world()
        built = package.package_request(w.application, actor=w.officer)
        package.package_build(package_id=built.pk)
        built.refresh_from_db()
        package.package_redact(built, path="interactions.0.text", find=THIRD_PARTY,
                               reason="Üçüncü kişi", actor=w.officer)  # fmt: skip
        package.package_release(built, actor=w.officer)
        letter = letters.letter_compose(w.application, outcome="accepted", body="Cevabımız.",
                                        actor=w.officer)  # fmt: skip
        letters.letter_render(letter_id=letter.pk)
        letters.letter_release(letter, actor=w.officer)
        url_json = reverse(
            "intake:download", args=[w.application.reference, f"package-{built.pk}-json"]
        )
        url_letter = reverse(
            "intake:download", args=[w.application.reference, f"letter-{letter.pk}"]
        )
        applicant = Client(HTTP_HOST=acme.host)
        _follow_session(applicant, w.application)

    # when the applicant downloads the JSON twice
    first = applicant.post(url_json)
    second = applicant.post(url_json)

    # then the first has their data without the third party, the second is gone
    assert first.status_code == 200
    data = first.content.decode()
    assert "Çiçek Sok. No:5 Kadıköy" in data and "[karartıldı]" in data
    assert THIRD_PARTY not in data
    assert second.status_code == 410
    pdf = applicant.post(url_letter)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "Kişisel Verileri Koruma Kurulu" in " ".join(pdf_text(pdf.content).split())
    # a GET never downloads (a mail scanner's prefetch must not use the download up)
    assert applicant.get(url_letter).status_code == 405


def _wait(check, seconds: int = 90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    return check()


@pytest.mark.worker
def test_a_real_worker_builds_the_package_and_renders_the_letter(celery_worker, committed_tenant):
    # given a controller of its own (the worker reads only committed data)
    tenant = committed_tenant("basvuruhak")

    def prepare():
        with tenant_context(tenant):
            staff_create(schema=tenant.schema_name, username="officer", role=Role.REQUEST_OFFICER)
            w = world(username="officer")
            return w.application.pk, package.package_request(w.application, actor=w.officer).pk

    application_id, package_id = in_thread(prepare)

    def package_state():
        with tenant_context(tenant):
            row = AccessPackage.objects.get(pk=package_id)
            return row if row.status in (JobStatus.READY, JobStatus.FAILED) else None

    # then the worker built it: ready for review, with its three files
    built = _wait(lambda: in_thread(package_state))
    assert built, "the worker did not finish the package"
    assert built.status == JobStatus.READY, built.failure
    assert set(built.files) == {"json", "csv", "pdf"} and built.attempts == 1

    # and the staff page shows it ready, with the review link
    client = portal_client(tenant, "officer")
    with tenant_context(tenant):
        page_url = reverse("requests:rights", args=[application_id])
        review_url = reverse("requests:package_review", args=[package_id])
    page = client.get(page_url).content.decode()
    assert 'data-status="ready"' in page and review_url in page

    # when a letter is composed, the worker renders it too
    def compose():
        with tenant_context(tenant):
            officer = User.objects.get(username="officer")
            application = Application.objects.get(pk=application_id)
            return letters.letter_compose(
                application, outcome="accepted", body="Başvurunuz kabul edildi.", actor=officer
            ).pk

    letter_id = in_thread(compose)

    def letter_state():
        with tenant_context(tenant):
            row = AnswerLetter.objects.get(pk=letter_id)
            return row if row.status in (JobStatus.READY, JobStatus.FAILED) else None

    rendered = _wait(lambda: in_thread(letter_state))
    assert rendered and rendered.status == JobStatus.READY, rendered and rendered.failure
    assert rendered.pages >= 1
    with tenant_context(tenant):
        pdf_url = reverse("requests:letter_pdf", args=[letter_id])
    text = " ".join(pdf_text(client.get(pdf_url).content).split())
    assert "Başvurunuz kabul edildi." in text and "Kişisel Verileri Koruma Kurulu" in text
