"""Shared pieces of the public application tests: a browser on a controller's host, a
filled-in form, files of each kind, and resetting the rate-limit counters."""

import re

import redis
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse

from requests.throttle import CACHE_PREFIX
from tests.requests.helpers import tckn_make

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


def throttle_reset() -> None:
    """Rate-limit counters live in Redis, which no test's rollback undoes."""
    cache_config = settings.CACHES["default"]
    pattern = f"*{cache_config['KEY_PREFIX']}*{CACHE_PREFIX}*"
    with redis.Redis.from_url(cache_config["LOCATION"]) as client:
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)


def visitor(tenant, *, address: str = "203.0.113.7", **kwargs) -> Client:
    """An anonymous browser on the controller's host, from one client address."""
    return Client(HTTP_HOST=tenant.host, REMOTE_ADDR=address, **kwargs)


def upload(name: str, content: bytes, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def form_data(**changes) -> dict:
    data = {
        "first_name": "Ayşe",
        "last_name": "Yılmaz",
        "identity_kind": "tckn",
        "tckn": tckn_make(7001),
        "nationality": "",
        "foreign_id": "",
        "address": "Çiçek Sok. No:5 Kadıköy İstanbul",
        "email": "yazilan@ornek.com.tr",
        "phone": "0532 123 45 67",
        "rights": ["a", "c2"],
        "details": "Hangi verilerimi işliyorsunuz?",
        "representative_name": "",
        "representative_contact": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def submit(client: Client, data: dict):
    return client.post(reverse("intake:form"), data)


def code_in(message) -> str:
    return re.search(r": (\d{6})\b", message.body).group(1)


def page_text(response) -> str:
    """The page as HTML without what changes per request (CSRF tokens, references)."""
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r"BSV-\d{4}-\d{6}", "BSV-REF", html)
    return html


def sent_after_commit(client: Client, url: str, data: dict):
    """POST, then run what waits for the commit (the code's message), as a real commit would."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, data)
