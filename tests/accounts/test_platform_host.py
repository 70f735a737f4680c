"""Pages about a controller's staff do not exist on the platform host: 404, not a log-in page."""

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from accounts.urls import personal_urlpatterns, tenant_urlpatterns
from tests.conftest import portal_client

PUBLIC = "config.urls_public"
SAMPLE_ARGUMENTS = {"IntConverter": 1, "StringConverter": "x" * 43}


def _path(pattern: URLPattern) -> str:
    converters = pattern.pattern.converters
    kwargs = {
        name: SAMPLE_ARGUMENTS[type(converter).__name__] for name, converter in converters.items()
    }
    return reverse(f"accounts:{pattern.name}", kwargs=kwargs, urlconf="config.urls_tenant")


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("who", ["anonymous", "platform admin"])
@pytest.mark.parametrize("pattern", tenant_urlpatterns, ids=lambda pattern: pattern.name)
def test_every_tenant_only_accounts_page_is_404_on_the_platform_host(db, pattern, who, method):
    client = Client(HTTP_HOST="localhost") if who == "anonymous" else portal_client(None, "root")

    response = getattr(client, method)(_path(pattern))

    assert response.status_code == 404


@pytest.mark.parametrize("pattern", personal_urlpatterns, ids=lambda pattern: pattern.name)
def test_log_in_and_profile_pages_stay_on_the_platform_host(db, pattern):
    assert reverse(f"accounts:{pattern.name}", urlconf=PUBLIC) == _path(pattern)


def test_platform_admin_opens_their_profile(db):
    response = portal_client(None, "root").get(reverse("accounts:profile", urlconf=PUBLIC))
    assert response.status_code == 200
