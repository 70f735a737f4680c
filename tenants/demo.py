"""Demo data: two controllers with Turkish names, staff of every role, known log-ins.

Idempotent: running it again leaves the same controllers, users, passwords and
authenticator keys, so the printed codes keep working.
"""

import hashlib
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context, tenant_context
from faker import Faker

from tenants.accounts.models import Role, User
from tenants.models import Tenant
from tenants.services import platform_ensure, tenant_provision

DEMO_PASSWORD = "Demo-Parola-2026!"  # noqa: S105 (documented demo log-in)

DEMO_CONTROLLERS = [
    {
        "slug": "acme",
        "legal_name": "Acme Perakende ve Mağazacılık A.Ş.",
        "vkn": "0010011238",
        "mersis_no": "0001001123400015",
        "verbis_no": "VRB-2024-018273",
        "kep_address": "acme@hs01.kep.tr",
        "contract_no": "SZL-2025-0042",
        "contract_start": date(2025, 1, 1),
    },
    {
        "slug": "kalkan",
        "legal_name": "Kalkan Sigorta A.Ş.",
        "vkn": "4870091234",
        "mersis_no": "0487009123500017",
        "verbis_no": "VRB-2023-004518",
        "kep_address": "kalkansigorta@hs02.kep.tr",
        "contract_no": "SZL-2024-0117",
        "contract_start": date(2024, 6, 1),
    },
]
DEMO_STAFF = [
    ("admin", Role.CONTROLLER_ADMIN),
    ("officer", Role.REQUEST_OFFICER),
    ("auditor", Role.AUDITOR),
]


@dataclass(frozen=True)
class DemoLogin:
    url: str
    username: str
    role: str
    schema: str


def demo_totp_key(schema: str, username: str) -> str:
    """A stable authenticator key per demo user, so codes survive re-seeding."""
    return hashlib.sha1(f"kvkk-demo:{schema}:{username}".encode()).hexdigest()  # noqa: S324


def _ensure_user(*, schema: str, username: str, role: str, faker: Faker, **extra) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, first_name=faker.first_name(), last_name=faker.last_name())
        user.email = f"{username}@{schema}.example.com.tr"
    user.role = role
    user.is_active = True
    for name, value in extra.items():
        setattr(user, name, value)
    user.set_password(DEMO_PASSWORD)
    user.save()
    device = TOTPDevice.objects.filter(user=user, name="demo").first() or TOTPDevice(
        user=user, name="demo"
    )
    device.key, device.confirmed = demo_totp_key(schema, username), True
    device.save()
    return user


@transaction.atomic
def seed_demo() -> list[DemoLogin]:
    faker = Faker("tr_TR")
    faker.seed_instance(6698)
    platform = platform_ensure()
    logins = []
    with schema_context("public"):
        _ensure_user(
            schema="public",
            username="platform",
            role="",
            faker=faker,
            is_staff=True,
            is_superuser=True,
        )
    port = f":{settings.PORTAL_PUBLIC_PORT}" if settings.PORTAL_PUBLIC_PORT else ""
    logins.append(
        DemoLogin(
            f"{settings.PORTAL_SCHEME}://{settings.PORTAL_BASE_DOMAIN}{port}/admin/",
            "platform",
            "platform admin",
            platform.schema_name,
        )
    )
    for spec in DEMO_CONTROLLERS:
        tenant = Tenant.objects.filter(slug=spec["slug"]).first()
        if tenant is None:
            contact = faker.name()
            tenant = tenant_provision(
                admin_username="admin",
                admin_email=f"admin@{spec['slug']}.example.com.tr",
                contact_name=contact,
                contact_email=f"kvkk@{spec['slug']}.example.com.tr",
                contact_phone=faker.phone_number(),
                **spec,
            ).tenant
        with tenant_context(tenant):
            for username, role in DEMO_STAFF:
                _ensure_user(schema=tenant.schema_name, username=username, role=role, faker=faker)
                logins.append(
                    DemoLogin(f"{tenant.base_url}/", username, str(role.label), tenant.schema_name)
                )
    return logins


def current_code(*, schema: str, username: str) -> str:
    """The authenticator code a demo user would type right now."""
    with schema_context(schema):
        device = TOTPDevice.objects.get(user__username=username, confirmed=True, name="demo")
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"
