"""Demo data: two controllers with Turkish names, staff of every role, known log-ins.

Idempotent: running it again leaves the same controllers, users, passwords and
authenticator keys, so the printed codes keep working.
"""

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context, tenant_context
from faker import Faker

from accounts.models import Role, User
from config.kvkk import ApplicationChannel
from requests.models import Application, IdentityMethod
from requests.services import Identity, application_register, identity_verified
from retention.models import DestructionRun
from retention.scan import run_scan
from retention.services import starter_set_adopt
from subjects.api.auth import TOKEN_PREFIX, hash_token
from subjects.crypto import tenant_key_create
from subjects.inventory import inventory_starter_create
from subjects.models import ApiToken, DataSubject
from subjects.services import notice_publish, register_ingest
from subjects.validation import records_validate
from subjects.validators import tckn_is_valid
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
DEMO_SUBJECTS = 40
# The first demo subject of each controller, so that the README's API look-up works as printed.
DEMO_LOOKUP_NAME = "Ayşe Demir"
DEMO_LOOKUP_EMAIL = "ayse.demir@example.com.tr"
# A valid T.C. identity number the demo register holds for Ayşe Demir, to try the public
# application form with (the code goes to her e-mail address above, in the SMTP sink).
DEMO_LOOKUP_TCKN = "10000000146"
DEMO_STAFF = [
    ("admin", Role.CONTROLLER_ADMIN),
    # A second controller admin: a disclosure is authorised by two different people (C9).
    ("admin2", Role.CONTROLLER_ADMIN),
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
        user = User(username=username, email=f"{username}@{schema}.example.com.tr")
    if not user.first_name:
        user.first_name, user.last_name = faker.first_name(), faker.last_name()
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
                    DemoLogin(f"{tenant.base_url}/", username, role.value, tenant.schema_name)
                )
            tenant_key_create()  # both idempotent: for controllers provisioned by older versions
            inventory_starter_create(language=tenant.language)
            _ensure_register(faker=faker, subjects=DEMO_SUBJECTS)
            _ensure_retention()
            _ensure_api_token(schema=tenant.schema_name)
            _ensure_applications(faker=faker)
    return logins


def demo_api_token(schema: str) -> str:
    """A stable demo API token per controller (demo only: real tokens are random)."""
    return (
        f"{TOKEN_PREFIX}_demo{schema[:4]}_"
        + hashlib.sha256(f"kvkk-demo-token:{schema}".encode()).hexdigest()[:40]
    )


def _ensure_api_token(*, schema: str) -> None:
    raw = demo_api_token(schema)
    ApiToken.objects.get_or_create(
        token_hash=hash_token(raw),
        defaults={
            "name": "Demo CRM",
            "prefix": raw.split("_")[1],
            "scope": ApiToken.Scope.WRITE,
            "created_by": User.objects.get(username="admin"),
        },
    )


def _ensure_retention() -> None:
    """The Turkish starter set of retention rules, and a first dry run waiting for approval:
    the demo's marketing consents older than two years are past their retention."""
    starter_set_adopt(actor=User.objects.get(username="admin"))
    if not DestructionRun.objects.exists():
        run_scan(kind=DestructionRun.Kind.PERIODIC)


def _ensure_applications(*, faker: Faker) -> None:
    """A few applications in every state of the clock: waiting for identity, in progress
    with days left, due within days, and overdue; one from a non-web channel."""
    if Application.objects.exists():
        return
    now = timezone.now()
    officer = User.objects.get(username="officer")
    admin = User.objects.get(username="admin")
    specs = [
        # (days ago received, channel, rights, verified, assignee)
        (0, ApplicationChannel.WEB, ["a", "b", "c", "c2"], False, None),
        (12, ApplicationChannel.WEB, ["a", "c2"], True, officer),
        (27, ApplicationChannel.WRITTEN, ["e", "f"], True, officer),
        (33, ApplicationChannel.KEP, ["d"], True, None),
    ]
    for days_ago, channel, rights, verified, assignee in specs:
        application = application_register(
            channel=channel,
            received_at=now - timedelta(days=days_ago, hours=2),
            rights=rights,
            applicant={
                "first_name": faker.first_name(),
                "last_name": faker.last_name(),
                "address": _address(faker),
                "email": f"{faker.user_name()}@example.com.tr",
                "phone": faker.numerify("+90 5## ### ## ##"),
            },
            identity=Identity(tckn=_tckn(faker)),
            details="6698 sayılı Kanun'un 11. maddesi uyarınca bilgi talep ediyorum.",
            actor=None if channel == ApplicationChannel.WEB else admin,
        )
        if verified:
            method = (
                IdentityMethod.EMAIL_CODE
                if channel == ApplicationChannel.WEB
                else IdentityMethod.STAFF_CHECK
            )
            application = identity_verified(application, method=method, actor=admin)
        if assignee is not None:
            Application.objects.filter(pk=application.pk).update(assignee=assignee)


def _ensure_register(*, faker: Faker, subjects: int) -> None:
    """Turkish-looking data subjects with items, ingested through the register's own path."""
    if DataSubject.objects.exists():
        return
    notice = notice_publish(
        title="Müşteri Aydınlatma Metni",
        text=(
            "Kişisel verileriniz, 6698 sayılı Kanun uyarınca veri sorumlusu sıfatıyla, müşteri "
            "hizmetleri, sözleşmenin ifası ve açık rızanız bulunması hâlinde pazarlama "
            "amaçlarıyla işlenmektedir. Kanun'un 11. maddesindeki haklarınızı başvuru "
            "formumuzla kullanabilirsiniz."
        ),
    )
    records = []
    for _ in range(subjects):
        name = faker.name()
        login = faker.user_name()
        records.append(
            {
                "group": faker.random_element(
                    ["customer", "customer", "customer", "prospect", "employee"]
                ),
                "name": name,
                "identifiers": {
                    "tckn": _tckn(faker),
                    "email": f"{login}@{faker.free_email_domain()}",
                    "phone": faker.numerify("+90 5## ### ## ##"),
                    "customer_no": faker.unique.numerify("MUS-######"),
                },
                "items": [
                    _item("contact", "customer_service", _address(faker), faker),
                    _item(
                        "customer_transaction",
                        "contract",
                        f"Sipariş {faker.numerify('SP-2025-#####')}",
                        faker,
                    ),
                    _item(
                        "marketing",
                        "marketing",
                        faker.random_element(["SMS izni", "E-posta izni", "Arama izni"]),
                        faker,
                        "art5_1",
                    ),
                ],
            }
        )
        marketing = records[-1]["items"][-1]
        # the explicit consent the marketing item relies on, given when it was collected
        records[-1]["consents"] = [
            {
                "purpose": "marketing",
                "channel": faker.random_element(["web_form", "mobile_app", "call_centre"]),
                "given_at": marketing["collected_at"],
                "notice_version": notice.version,
                "evidence_reference": faker.numerify("IZIN-######"),
            }
        ]
    records[0]["name"] = DEMO_LOOKUP_NAME
    records[0]["identifiers"]["email"] = DEMO_LOOKUP_EMAIL
    records[0]["identifiers"]["tckn"] = DEMO_LOOKUP_TCKN
    register_ingest(inputs=records_validate(records=records), actor_label="demo", source="demo")


_DISTRICTS = [
    "Kadıköy/İstanbul",
    "Üsküdar/İstanbul",
    "Çankaya/Ankara",
    "Karşıyaka/İzmir",
    "Nilüfer/Bursa",
    "Muratpaşa/Antalya",
    "Seyhan/Adana",
    "Tepebaşı/Eskişehir",
    "Atakum/Samsun",
    "Ortahisar/Trabzon",
]
_STREET_KINDS = ["Sok.", "Cad.", "Bulvarı"]


def _address(faker: Faker) -> str:
    street = f"{faker.last_name()} {faker.random_element(_STREET_KINDS)}"
    return f"{street} No:{faker.random_int(1, 180)} D:{faker.random_int(1, 24)} {faker.random_element(_DISTRICTS)}"


def _item(category: str, purpose: str, value: str, faker: Faker, basis: str = "art5_2_c") -> dict:
    return {
        "category": category,
        "purpose": purpose,
        "legal_basis": basis,
        "source_system": "crm",
        "value": value,
        "collected_at": faker.date_time_between(
            start_date="-3y", end_date="-1d", tzinfo=timezone.get_current_timezone()
        ),
    }


def _tckn(faker: Faker) -> str:
    while True:
        candidate = str(faker.random_int(10**10, 10**11 - 1))[:9]
        d = [int(c) for c in candidate]
        tenth = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
        value = candidate + str(tenth)
        value += str(sum(int(c) for c in value) % 10)
        if tckn_is_valid(value):
            return value


def current_code(*, schema: str, username: str) -> str:
    """The authenticator code a demo user would type right now."""
    with schema_context(schema):
        device = TOTPDevice.objects.get(user__username=username, confirmed=True, name="demo")
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"
