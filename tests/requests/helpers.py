"""Applications and register subjects for the application tests (the current schema)."""

import itertools
import subprocess
from datetime import datetime

from django.db import connection
from django.utils import timezone

from requests import services
from requests.models import Application
from subjects import services as subject_services
from subjects import validation
from subjects.models import DataSubject

_numbers = itertools.count(1)


def tckn_make(seed: int) -> str:
    """A valid TCKN (checksums per KVKK.md) built from a number."""
    digits = [int(c) for c in f"{(seed % 899_999_999) + 100_000_000:09d}"]
    d10 = ((sum(digits[0:9:2]) * 7) - sum(digits[1:8:2])) % 10
    digits.append(d10)
    digits.append(sum(digits) % 10)
    return "".join(map(str, digits))


def register_subject(*, tckn: str, email: str | None = None, phone: str | None = None,
                     name: str = "Ayşe Yılmaz", items=None) -> DataSubject:  # fmt: skip
    """A register subject with this TCKN (and e-mail/phone) and a contact item."""
    identifiers = {"tckn": tckn}
    if email:
        identifiers["email"] = email
    if phone:
        identifiers["phone"] = phone
    record = {
        "group": "customer",
        "name": name,
        "identifiers": identifiers,
        "items": items
        or [
            {
                "category": "contact",
                "purpose": "customer_service",
                "legal_basis": "art5_2_c",
                "source_system": "crm",
                "value": "Çiçek Sok. No:5 Kadıköy",
                "collected_at": timezone.now().isoformat(),
            }
        ],
    }
    result = subject_services.register_ingest(
        inputs=validation.records_validate(records=[record]), source="test"
    )
    return DataSubject.objects.get(uuid=result.subjects[0])


def application(*, tckn: str | None = None, rights=("a",), channel: str = "web",
                received_at: datetime | None = None, actor=None, email: str | None = None,
                details: str = "Hakkımda hangi verileri işliyorsunuz?") -> Application:  # fmt: skip
    number = next(_numbers)
    return services.application_register(
        channel=channel,
        received_at=received_at or timezone.now(),
        rights=list(rights),
        applicant={
            "first_name": "Ayşe",
            "last_name": "Yılmaz",
            "address": "Çiçek Sok. No:5 Kadıköy İstanbul",
            "email": email or f"basvuru{number}.{connection.schema_name}@ornek.com.tr",
            "phone": "",
        },
        identity=services.Identity(tckn=tckn or tckn_make(number + 500)),
        details=details,
        actor=actor,
    )


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF as a reader sees it (poppler's pdftotext)."""
    result = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60
    )
    return result.stdout.decode()
