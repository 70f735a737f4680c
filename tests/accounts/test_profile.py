"""One's own password: changed with the current one, validated, logged; this session stays."""

import pytest
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

from accounts.forms import PASSWORDS_DIFFER
from accounts.models import User
from accounts.services import CURRENT_PASSWORD_WRONG
from audit.models import Action, AuditEntry
from tests.conftest import portal_client
from tests.factories import PASSWORD

NEW_PASSWORD = "Yeni-ve-Uzun-Parola-42"
CHANGE = reverse("accounts:password_change")


def _change(client: Client, current: str, new1: str, new2: str | None = None):
    return client.post(
        CHANGE,
        {"current_password": current, "new_password1": new1, "new_password2": new2 or new1},
    )


def _password_works(acme, password: str) -> bool:
    with tenant_context(acme):
        return User.objects.get(username="colleague").check_password(password)


def test_password_change_keeps_this_session_ends_the_others_and_is_logged(colleague, acme):
    other_session = portal_client(acme, "colleague")

    response = _change(colleague, PASSWORD, NEW_PASSWORD)

    assert response.status_code == 302
    assert colleague.get(reverse("accounts:profile")).status_code == 200
    assert other_session.get("/").status_code == 302
    assert _password_works(acme, NEW_PASSWORD) and not _password_works(acme, PASSWORD)
    with tenant_context(acme):
        entry = AuditEntry.objects.filter(action=Action.PASSWORD_CHANGED).latest("id")
        assert entry.actor_label == "colleague"
        assert NEW_PASSWORD not in str(entry.detail)


@pytest.mark.parametrize(
    ("current", "new1", "new2", "field", "message"),
    [
        ("wrong-password-1", NEW_PASSWORD, None, "current_password", "Şu anki parolanız yanlış."),
        (
            PASSWORD,
            NEW_PASSWORD,
            NEW_PASSWORD + "x",
            "new_password2",
            "Girilen iki parola birbirinden farklı.",
        ),
        (PASSWORD, "kisa", None, "new_password1", "Bu parola çok kısa."),
        (PASSWORD, "12345678901234", None, "new_password1", "tamamıyla sayısal"),
        (PASSWORD, PASSWORD, None, "new_password1", "Yeni parola şu ankinden farklı olmalı."),
    ],
)
def test_a_bad_password_change_shows_why_beside_the_field_and_changes_nothing(
    colleague, acme, current, new1, new2, field, message
):
    response = _change(colleague, current, new1, new2)

    assert response.status_code == 200
    errors = response.context["password_form"].errors
    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    assert message in response.content.decode()
    assert _password_works(acme, PASSWORD)
    with tenant_context(acme):
        assert not AuditEntry.objects.filter(action=Action.PASSWORD_CHANGED).exists()


def test_error_messages_exist_in_english_too(colleague):
    colleague.cookies["django_language"] = "en"
    response = _change(colleague, "wrong-password-1", NEW_PASSWORD)
    assert str(CURRENT_PASSWORD_WRONG) in response.content.decode()
    response = _change(colleague, PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert str(PASSWORDS_DIFFER) in response.content.decode()


def test_platform_admins_change_their_password_on_the_platform_host(db):
    root = portal_client(None, "root")

    response = root.post(
        reverse("accounts:password_change", urlconf="config.urls_public"),
        {
            "current_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert User.objects.get(username="root").check_password(NEW_PASSWORD)
