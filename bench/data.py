"""Deterministic, Turkish-looking register records for the benchmarks.

Record ``n`` is always the same data subject, whatever the batch size: its
identifiers are derived from ``n`` (so they are unique and can be found again
without keeping the records), the rest from a generator seeded with ``n``.
Faker (tr_TR) is slow for a million values, so it fills small pools once and
the records combine them.

A record has the shape the bulk API hands to ``subjects.services.records_validate``
after JSON parsing: group, name, identifiers and items with parsed datetimes.
"""

import functools
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from faker import Faker

SEED = 6698

COMMON_FEMALE = ("Ayşe", "Fatma", "Emine", "Hatice", "Zeynep", "Elif", "Meryem", "Şerife", "Zehra")
COMMON_MALE = ("Mehmet", "Mustafa", "Ahmet", "Ali", "Hüseyin", "Hasan", "İbrahim", "İsmail", "Ömer")
NEIGHBOURHOODS = (
    "Cumhuriyet",
    "Atatürk",
    "Fatih",
    "Yenimahalle",
    "Bahçelievler",
    "Merkez",
    "İstiklal",
    "Gazi",
    "Barbaros",
    "Hürriyet",
    "Çamlıca",
    "Esentepe",
    "Güzelyalı",
    "Yıldıztepe",
)
STREET_KINDS = ("Sok.", "Cad.")
# (district, province, plate code, latitude, longitude of the province centre)
PLACES = (
    ("Kadıköy", "İstanbul", 34, 40.99, 29.03),
    ("Üsküdar", "İstanbul", 34, 41.02, 29.02),
    ("Beşiktaş", "İstanbul", 34, 41.04, 29.01),
    ("Bakırköy", "İstanbul", 34, 40.98, 28.87),
    ("Esenyurt", "İstanbul", 34, 41.03, 28.68),
    ("Çankaya", "Ankara", 6, 39.92, 32.85),
    ("Keçiören", "Ankara", 6, 39.98, 32.87),
    ("Karşıyaka", "İzmir", 35, 38.46, 27.11),
    ("Bornova", "İzmir", 35, 38.47, 27.22),
    ("Nilüfer", "Bursa", 16, 40.21, 28.98),
    ("Osmangazi", "Bursa", 16, 40.19, 29.06),
    ("Muratpaşa", "Antalya", 7, 36.89, 30.71),
    ("Seyhan", "Adana", 1, 36.99, 35.33),
    ("Selçuklu", "Konya", 42, 37.87, 32.48),
    ("Şahinbey", "Gaziantep", 27, 37.06, 37.38),
    ("Tepebaşı", "Eskişehir", 26, 39.78, 30.51),
    ("Atakum", "Samsun", 55, 41.33, 36.27),
    ("Ortahisar", "Trabzon", 61, 41.00, 39.72),
    ("Melikgazi", "Kayseri", 38, 38.73, 35.49),
    ("İzmit", "Kocaeli", 41, 40.77, 29.92),
    ("Pamukkale", "Denizli", 20, 37.78, 29.09),
)
MOBILE_CODES = (501, 505, 506, 507, 530, 532, 533, 535, 536, 539, 541, 542, 544, 545, 552, 555)
SOURCE_SYSTEMS = ("crm", "e-ticaret", "çağrı-merkezi", "mağaza-pos", "mobil-uygulama")
ORDER_ITEMS = (
    "çamaşır makinesi",
    "buzdolabı",
    "dizüstü bilgisayar",
    "cep telefonu",
    "elektrikli süpürge",
    "kahve makinesi",
    "televizyon",
    "bulaşık makinesi",
)
COMPLAINTS = (
    "kargo gecikmesi",
    "hasarlı ürün teslimi",
    "fatura tutarı itirazı",
    "iade süreci",
    "kurulum randevusu",
    "garanti kapsamı",
)
_ASCII = str.maketrans("çğıöşüâîûÇĞİÖŞÜÂÎÛ", "cgiosuaiuCGIOSUAIU")
_COLLECTED_FROM = datetime(2020, 1, 1, tzinfo=UTC)
_COLLECTED_SPAN = int((datetime(2025, 1, 1, tzinfo=UTC) - _COLLECTED_FROM).total_seconds())


@dataclass(frozen=True)
class Pools:
    female: tuple[str, ...]
    male: tuple[str, ...]
    last: tuple[str, ...]
    streets: tuple[str, ...]
    companies: tuple[str, ...]
    jobs: tuple[str, ...]
    mail_domains: tuple[str, ...]


@functools.cache
def pools() -> Pools:
    """Faker's values, drawn once (a few thousand calls, well under a second)."""
    fake = Faker("tr_TR")
    fake.seed_instance(SEED)

    def draw(method, count: int) -> tuple[str, ...]:
        # Faker's tr_TR lists hold a few garbled entries ("N˜zamett˜n"): letters only.
        values = {method() for _ in range(count)}
        return tuple(sorted(v for v in values if v.replace(" ", "").replace(".", "").isalpha()))

    last = draw(fake.last_name, 2000)
    return Pools(
        female=COMMON_FEMALE * 10 + draw(fake.first_name_female, 400),
        male=COMMON_MALE * 10 + draw(fake.first_name_male, 400),
        last=last,
        streets=(
            *(f"{name} {kind}" for name in last[:300] for kind in STREET_KINDS),
            *("Atatürk Bulvarı", "İnönü Cad.", "Bağdat Cad.", "İstiklal Cad.", "Gazi Bulvarı"),
        ),
        companies=draw(fake.company, 400),
        jobs=draw(fake.job, 300),
        mail_domains=(*draw(fake.free_email_domain, 200), "ornek.com.tr", "firma.com.tr"),
    )


def tckn(n: int) -> str:
    """A checksum-valid TCKN, distinct for every n below 900 million."""
    base = f"{100_000_000 + (n * 7919 + 13) % 900_000_000:09d}"
    d = [int(char) for char in base]
    tenth = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    ten = base + str(tenth)
    return ten + str(sum(int(char) for char in ten) % 10)


def _mobile(rng: random.Random, seven: int) -> str:
    """A Turkish mobile number in one of the ways people write them."""
    code, digits = rng.choice(MOBILE_CODES), f"{seven:07d}"
    return rng.choice(
        (
            f"0{code} {digits[:3]} {digits[3:5]} {digits[5:]}",
            f"+90 {code} {digits[:3]} {digits[3:5]} {digits[5:]}",
            f"0{code}{digits}",
            f"({code}) {digits[:3]}-{digits[3:]}",
        )
    )


def _money(rng: random.Random) -> str:
    lira = rng.randint(80, 60_000)
    return f"{lira:,}".replace(",", ".") + f",{rng.randint(0, 99):02d} TL"


def _address(rng: random.Random, p: Pools, place: tuple) -> str:
    district, province, plate = place[:3]
    return (
        f"{rng.choice(NEIGHBOURHOODS)} Mah. {rng.choice(p.streets)} No:{rng.randint(1, 180)} "
        f"D:{rng.randint(1, 24)} {plate:02d}{rng.randint(100, 999)} {district}/{province}"
    )


# One template per item kind: (category, purpose, legal basis, value). Categories,
# purposes and bases are those of the starter inventory (subjects.services); none is a
# special category. Item k of a subject uses template k modulo their number.
def _home_address(rng, p, s):
    return "contact", "customer_service", "art5_2_c", _address(rng, p, s["place"])


def _work_phone(rng, p, s):
    return "contact", "customer_service", "art5_2_c", _mobile(rng, rng.randrange(10_000_000))


def _newsletter(rng, p, s):
    return "contact", "marketing", "art5_1", f"Bülten adresi: {s['email']}"


def _birth(rng, p, s):
    born = datetime(1950, 1, 1) + timedelta(days=rng.randrange(20_000))
    place = rng.choice(PLACES)[1]
    return "identity", "contract", "art5_2_c", f"Doğum: {born:%d.%m.%Y}, {place}"


def _order(rng, p, s):
    number = f"SP-{rng.randint(2020, 2024)}-{rng.randrange(10**6):06d}"
    what = f"{rng.randint(1, 3)} × {rng.choice(ORDER_ITEMS)}"
    return (
        "customer_transaction",
        "contract",
        "art5_2_c",
        f"Sipariş {number}: {what}, {_money(rng)}",
    )


def _invoice(rng, p, s):
    number = f"FTR{rng.randint(2020, 2024)}{rng.randrange(10**9):09d}"
    return (
        "customer_transaction",
        "contract",
        "art5_2_c2",
        f"e-Arşiv fatura {number}, {_money(rng)}",
    )


def _complaint(rng, p, s):
    return (
        "customer_transaction",
        "complaints",
        "art5_2_f",
        f"Şikâyet #{rng.randrange(10**7)}: {rng.choice(COMPLAINTS)}",
    )


def _consent(rng, p, s):
    channels = rng.choice(("SMS ve e-posta", "e-posta", "SMS", "arama"))
    return "marketing", "marketing", "art5_1", f"Ticari ileti onayı (İYS): {channels}"


def _location(rng, p, s):
    district, province, _plate, lat, lon = s["place"]
    lat, lon = lat + rng.uniform(-0.05, 0.05), lon + rng.uniform(-0.05, 0.05)
    return (
        "location",
        "customer_service",
        "art5_2_f",
        f"{lat:.5f}, {lon:.5f} ({district}/{province})",
    )


def _employer(rng, p, s):
    return (
        "customer_transaction",
        "contract",
        "art5_2_c",
        f"Meslek: {rng.choice(p.jobs)}; işveren: {rng.choice(p.companies)}",
    )


ITEM_TEMPLATES = (
    _home_address,
    _work_phone,
    _newsletter,
    _birth,
    _order,
    _invoice,
    _complaint,
    _consent,
    _location,
    _employer,
)


def records(first: int, count: int, items_per_subject: int, *, seed: int = SEED) -> list[dict]:
    """Records for subjects first … first+count-1, ready for records_validate."""
    p, rng, out = pools(), random.Random(), []
    for n in range(first, first + count):
        rng.seed(seed * 1_000_003 + n)
        given = (rng.choice(p.female) if rng.random() < 0.5 else rng.choice(p.male)) + (
            "" if rng.random() < 0.85 else f" {rng.choice(p.female + p.male)}"
        )
        family = rng.choice(p.last)
        local = f"{given.split()[0]}.{family}".translate(_ASCII).lower()
        subject: dict[str, Any] = {
            "email": f"{local}{n}@{rng.choice(p.mail_domains)}",
            "place": rng.choice(PLACES),
        }
        items = []
        for k in range(items_per_subject):
            category, purpose, basis, value = ITEM_TEMPLATES[k % len(ITEM_TEMPLATES)](
                rng, p, subject
            )
            items.append(
                {
                    "category": category,
                    "purpose": purpose,
                    "legal_basis": basis,
                    "source_system": rng.choice(SOURCE_SYSTEMS),
                    "value": value,
                    "collected_at": _COLLECTED_FROM
                    + timedelta(seconds=rng.randrange(_COLLECTED_SPAN)),
                }
            )
        out.append(
            {
                "group": "customer" if rng.random() < 0.9 else "prospect",
                "name": f"{given} {family}",
                "identifiers": {
                    "tckn": tckn(n),
                    "email": subject["email"],
                    # n → 7 digits is one-to-one below ten million subjects, so phones are unique.
                    "phone": _mobile(rng, (n * 7_654_321 + 1_000_003) % 10_000_000),
                    "customer_no": f"MUS-{n:08d}",
                },
                "items": items,
            }
        )
    return out
