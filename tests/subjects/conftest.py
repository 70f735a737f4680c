"""API tokens and a small register for the subjects tests."""

import json

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from accounts.models import User
from subjects.api.auth import api_token_create
from subjects.models import ApiToken

# Valid TCKNs (checksums hold), used across the tests.
TCKN_AYSE = "10000000146"
TCKN_MEHMET = "12345678950"


class ApiClient:
    """A controller system calling the API of one tenant host with a token."""

    def __init__(self, host: str, raw_token: str, language: str = ""):
        self.client = Client(HTTP_HOST=host)
        self.headers = {"HTTP_AUTHORIZATION": f"Token {raw_token}"}
        if language:
            self.headers["HTTP_ACCEPT_LANGUAGE"] = language

    def post(self, path: str, body, **extra):
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return self.client.post(
            path, data, content_type="application/json", **self.headers, **extra
        )

    def patch(self, path: str, body, **extra):
        return self.client.patch(
            path, json.dumps(body), content_type="application/json", **self.headers, **extra
        )

    def get(self, path: str, params=None, **extra):
        return self.client.get(path, params or {}, **self.headers, **extra)


def make_token(tenant, scope=ApiToken.Scope.WRITE) -> str:
    with tenant_context(tenant):
        _, raw = api_token_create(
            name="crm",
            scope=scope,
            created_by=User.objects.get(
                role="controller_admin", username__in=["owner", "outsider"]
            ),
        )
    return raw


@pytest.fixture
def api(acme) -> ApiClient:
    return ApiClient(acme.host, make_token(acme))


@pytest.fixture
def globex_api(globex) -> ApiClient:
    return ApiClient(globex.host, make_token(globex))


def subject_record(tckn: str = TCKN_AYSE, **overrides) -> dict:
    record = {
        "group": "customer",
        "name": "Ayşe Yılmaz",
        "identifiers": {"tckn": tckn, "email": f"ayse.{tckn}@example.com.tr"},
        "items": [
            {
                "category": "contact",
                "purpose": "customer_service",
                "legal_basis": "art5_2_c",
                "source_system": "crm",
                "value": "Çiçek Sok. No:5 Kadıköy/İstanbul",
                "collected_at": "2025-03-01T10:00:00+03:00",
            },
        ],
    }
    record.update(overrides)
    return record
