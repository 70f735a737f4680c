"""Each host serves exactly one schema; nothing of one controller shows on another's host."""

from django.test import Client
from django.urls import reverse

from tests.conftest import portal_client


def test_same_url_on_two_hosts_shows_only_that_tenants_staff(owner, outsider):
    acme_page = owner.get(reverse("accounts:staff")).content.decode()
    globex_page = outsider.get(reverse("accounts:staff")).content.decode()

    assert "colleague" in acme_page and "auditor" in acme_page
    assert "outsider" not in acme_page
    assert "outsider" in globex_page
    assert "colleague" not in globex_page and "owner" not in globex_page


def test_unknown_host_gets_404(db):
    response = Client(HTTP_HOST="nosuchcontroller.localhost").get("/")
    assert response.status_code == 404


def test_public_host_never_serves_tenant_pages(db):
    client = portal_client(None, "root")
    for path in [
        "/audit/",
        "/requests/",
        "/subjects/",
        "/retention/",
        "/transfers/",
        "/accounts/staff/",
    ]:
        response = client.get(path)
        assert response.status_code in (403, 404), path
        assert "colleague" not in response.content.decode()


def test_public_host_serves_the_landing_page(db):
    response = Client(HTTP_HOST="localhost").get("/")
    assert response.status_code == 200
    assert "KVKK" in response.content.decode()


def test_session_of_one_tenant_is_anonymous_on_another(outsider, acme):
    # given: globex's admin is logged in on globex; the same cookie jar is replayed on acme's host
    stolen = Client(HTTP_HOST=acme.host)
    stolen.cookies = outsider.cookies

    response = stolen.get(reverse("accounts:staff"))

    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_security_headers_are_sent(owner):
    response = owner.get("/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
