"""Every retention page answers in Turkish and in English, for every role that may read it."""

import pytest
from django.urls import reverse
from django_tenants.utils import tenant_context

from retention import destruction, scan, services
from retention.models import DestructionRun, LegalHold
from tests.retention.register import admin, approve, hold, item, rule, subject, years_ago

# A word of each page's navigation, in each language: the page was rendered in it.
LANGUAGE_MARK = {"tr": ">Saklama ve imha<", "en": ">Retention<"}


def _world() -> dict:
    """A rule, a subject whose contact item is due, a finished run with minutes, a dry run
    waiting for approval, a hold and a policy version."""
    rule("contact", period=1)
    person = subject(
        item("contact", collected=years_ago(3)), item("identity", collected=years_ago(1))
    )
    done = destruction.run_execute(
        run_id=approve(scan.run_scan(kind=DestructionRun.Kind.PERIODIC)).pk
    )
    subject(item("contact", collected=years_ago(2)), item("identity"), name="Mehmet Kaya")
    waiting = scan.run_scan(kind=DestructionRun.Kind.PERIODIC)
    hold(scope=LegalHold.Scope.CATEGORY, category=rule("identity", period=10).category)
    policy = services.policy_refresh(actor=admin())
    return {
        "done": done.pk,
        "waiting": waiting.pk,
        "seq": done.minutes.seq,
        "policy": policy.number,
        "person": person.uuid,
    }


def _pages(world: dict) -> list[str]:
    names = [
        ("retention:index", ()),
        ("retention:rules", ()),
        ("retention:rule", ("contact",)),
        ("retention:rule", ("location",)),  # a category without a rule
        ("retention:settings", ()),
        ("retention:holds", ()),
        ("retention:policy", ()),
        ("retention:policy_version", (world["policy"],)),
        ("retention:policy_pdf", (world["policy"],)),
        ("retention:run_list", ()),
        ("retention:run_detail", (world["waiting"],)),
        ("retention:run_detail", (world["done"],)),
        ("retention:minutes_list", ()),
        ("retention:minutes_detail", (world["seq"],)),
        ("retention:minutes_pdf", (world["seq"],)),
        ("retention:minutes_json", (world["seq"],)),
        ("retention:minutes_chain_json", ()),
    ]
    return [reverse(name, args=args) for name, args in names]


@pytest.mark.parametrize("language", ["tr", "en"])
@pytest.mark.parametrize("member", ["owner", "colleague", "auditor"])
def test_every_retention_page_answers_in_both_languages(member, language, acme, request):
    client = request.getfixturevalue(member)
    with tenant_context(acme):
        world = _world()
    client.post(reverse("accounts:set_language"), {"language": language, "next": "/"})
    for url in _pages(world):
        response = client.get(url)
        assert response.status_code == 200, url
        if response["Content-Type"].startswith("text/html"):
            page = response.content.decode()
            assert f'<html lang="{language}">' in page, url
            assert LANGUAGE_MARK[language] in page, url


def test_the_subject_destruction_page_answers_the_admin_in_both_languages(owner, acme):
    with tenant_context(acme):
        person = subject(item("contact"))
    url = reverse("retention:subject_destroy", args=[person.uuid])
    for language, mark in (("tr", "İmha"), ("en", "Destroy")):
        owner.post(reverse("accounts:set_language"), {"language": language, "next": "/"})
        response = owner.get(url)
        assert response.status_code == 200
        assert mark in response.content.decode()
