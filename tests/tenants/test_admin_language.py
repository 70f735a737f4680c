"""The platform admin reads as Turkish: dotted capitals, third-party labels, numerals, history."""

import html
import re
from urllib.parse import urljoin, urlparse

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from audit.models import Action
from audit.services import audit_entry_create
from tenants.models import Tenant
from tests.conftest import portal_client

PUBLIC = "config.urls_public"
# Labels the apps ship in English only; none may reach a Turkish page.
ENGLISH_LABELS = [
    "Access failure",
    "Access attempt",
    "Access log",
    "TOTP device",
    "Static device",
    "static token",
    "Schema name",
    "Is primary",
    "historical",
    "Identity",
    "Timestamps",
    "Throttling",
    "Search by user",
    "The user that this device belongs to",
    "Changed by",
    "Can view",
]
# A word that starts with a dotless capital I followed by small letters is a capitalised
# Turkish "i…" gone wrong ("Irtibat", "Işlem"); "Irk" (race) is the one such word we use.
DOTLESS_CAPITAL = re.compile(r"\bI(?!rk\b)[a-zçğıöşü]+")


def _url(name: str, *args) -> str:
    return reverse(name, args=args, urlconf=PUBLIC)


def _text(response) -> str:
    page = response.content.decode()
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.fixture
def admin_tr(db):
    return portal_client(None, "root")


@pytest.fixture
def admin_en(db):
    User.objects.filter(username="root").update(language="en")
    return portal_client(None, "root")


@pytest.fixture
def root(db) -> User:
    return User.objects.get(username="root")


def test_a_changelist_counts_controllers_in_the_singular_after_the_numeral(admin_tr):
    count = Tenant.objects.exclude(schema_name="public").count()
    assert count >= 2  # acme and globex at least

    text = _text(admin_tr.get(_url("admin:tenants_tenant_changelist")))

    assert f"{count} veri sorumlusu" in text
    assert f"{count} veri sorumluları" not in text


def test_english_keeps_the_plural_after_the_numeral(admin_en):
    count = Tenant.objects.exclude(schema_name="public").count()
    text = _text(admin_en.get(_url("admin:tenants_tenant_changelist")))
    assert f"{count} data controllers" in text


def test_labels_starting_with_i_take_the_dotted_capital(admin_tr, acme, root):
    audit_entry_create(action=Action.UPDATE, target=root, detail={"event": "test"})

    tenant_page = _text(admin_tr.get(_url("admin:tenants_tenant_change", acme.pk)))
    audit_list = _text(admin_tr.get(_url("admin:audit_auditentry_changelist")))
    index = _text(admin_tr.get(_url("admin:index")))

    assert "İrtibat kişisi" in tenant_page and "Irtibat" not in tenant_page
    assert "İşlemi yapan" in audit_list and "Işlemi" not in audit_list
    assert "İmzalı gizlilik taahhütnameleri" in index and "Imzalı" not in index


def test_the_provisioning_form_built_at_import_time_capitalises_in_turkish_too(admin_tr):
    text = _text(admin_tr.get(_url("admin:tenants_tenant_provision")))
    assert "İrtibat kişisi" in text and "Irtibat" not in text


def test_third_party_apps_are_listed_in_turkish(admin_tr):
    text = _text(admin_tr.get(_url("admin:index")))

    for label in [
        "Giriş kilitleri",
        "Başarısız girişler",
        "Giriş denemeleri",
        "Giriş kayıtları",
        "Doğrulama uygulamaları",
    ]:
        assert label in text
    # backup codes are stored hashed in accounts and have no admin page at all
    for label in ["Access failures", "TOTP devices", "Static devices", "Axes", "Otp_", "Yedek kod"]:
        assert label not in text


def test_the_lockout_log_shows_turkish_columns_and_entries(admin_tr):
    from axes.models import AccessLog

    log = AccessLog.objects.create(
        username="root",
        ip_address="127.0.0.1",
        user_agent="test",
        http_accept="*/*",
        path_info="/accounts/login/",
    )

    listing = _text(admin_tr.get(_url("admin:axes_accesslog_changelist")))
    entry = _text(admin_tr.get(_url("admin:axes_accesslog_change", log.pk)))

    assert "Deneme zamanı" in listing and "Tarayıcı bilgisi" in listing
    assert f"{AccessLog.objects.count()} giriş kaydı" in listing  # the log-in is one too
    assert "root girişi" in entry and "Access Log for" not in entry


def test_an_authenticator_reads_in_turkish_and_keeps_its_secret(admin_tr, root):
    device = TOTPDevice.objects.get(user=root)

    text = _text(admin_tr.get(_url("admin:otp_totp_totpdevice_change", device.pk)))

    assert "Kimlik" in text and "Zamanlar" in text
    assert "Bu doğrulama yönteminin ait olduğu kullanıcı." in text
    assert device.key not in text


def test_a_controller_shows_its_schema_and_domains_in_turkish(admin_tr, acme):
    text = _text(admin_tr.get(_url("admin:tenants_tenant_change", acme.pk)))
    assert "Şema adı" in text and "Birincil" in text
    assert "Schema name" not in text and "Is primary" not in text


def test_english_keeps_the_apps_own_labels(admin_en, acme):
    index = _text(admin_en.get(_url("admin:index")))
    tenant_page = _text(admin_en.get(_url("admin:tenants_tenant_change", acme.pk)))
    assert "Access failures" in index and "TOTP devices" in index
    assert "Schema name" in tenant_page and "Contact person" in tenant_page


def test_history_pages_read_in_turkish(admin_tr, acme):
    version = acme.history.earliest("history_date")

    listing = _text(admin_tr.get(_url("admin:tenants_tenant_history", acme.pk)))
    form = admin_tr.get(_url("admin:tenants_tenant_simple_history", acme.pk, version.pk))

    assert "Değiştiren" in listing and "Değişiklik nedeni" in listing
    assert "kayıt" in listing and "None" not in listing
    assert form.status_code == 200
    assert ">Veri sorumluları</a>" in form.content.decode()
    assert ">Tenants</a>" not in form.content.decode()


def test_a_version_that_is_not_a_number_is_not_found(admin_tr, root):
    # the user form's relative "../password/" link, followed from a version page
    response = admin_tr.get(f"{_url('admin:accounts_user_history', root.pk)}password/")
    assert response.status_code == 404


def test_permissions_are_listed_in_turkish(admin_tr, root):
    user_page = _text(admin_tr.get(_url("admin:accounts_user_change", root.pk)))
    group_page = _text(admin_tr.get(_url("admin:auth_group_add")))
    for text in (user_page, group_page):
        assert "veri sorumlusu görüntüleyebilir" in text
        assert "Can view data controller" not in text


def test_every_admin_page_reads_in_turkish(admin_tr, root):
    """Walk the admin from its index: no page crashes, no English label, no dotless capital İ.

    (A 404 is fine: the user form's relative "../password/" link is broken on version pages.)
    """
    Group.objects.create(name="denetçiler")
    audit_entry_create(action=Action.UPDATE, target=root, detail={"event": "test"})
    index = _url("admin:index")
    queue, seen, problems = [index], set(), []
    while queue and len(seen) < 150:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = admin_tr.get(path)
        if response.status_code >= 500:
            problems.append(f"{path}: {response.status_code}")
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        text = _text(response)
        problems += [f"{path}: {label!r}" for label in ENGLISH_LABELS if label in text]
        problems += [f"{path}: {word!r}" for word in DOTLESS_CAPITAL.findall(text)]
        for href in re.findall(r'href="([^"#]+)"', response.content.decode()):
            link = urlparse(urljoin(path, html.unescape(href)))
            if link.path.startswith(index) and not link.query and not link.netloc:
                queue.append(link.path)
    assert len(seen) > 30
    assert problems == []
