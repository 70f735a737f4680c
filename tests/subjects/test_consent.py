"""Explicit consent (açık rıza) and privacy notices (C10): how consents arrive, what their
withdrawal stops at once, and the special-category gate on every write path."""

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import tenant_context

from subjects import selectors, services
from subjects.models import Consent, DataSubject
from subjects.validation import records_validate
from tests.subjects.conftest import TCKN_AYSE, TCKN_MEHMET, subject_record

PDF = b"%PDF-1.4\n% consent form, signed\n"


def _subject(tckn=TCKN_AYSE, **overrides) -> DataSubject:
    inputs = records_validate(records=[subject_record(tckn, **overrides)])
    result = services.register_ingest(inputs=inputs, source="test")
    return DataSubject.objects.get(uuid=result.subjects[0])


def _consent(subject, *, purpose="customer_service", given=None, **extra) -> Consent:
    return services.consent_record(
        subject=subject,
        purpose_code=purpose,
        channel=extra.pop("channel", "web_form"),
        given_at=given or timezone.now() - timedelta(days=1),
        evidence_reference=extra.pop("evidence_reference", "FORM-2026-0042"),
        **extra,
    )


def test_a_recorded_consent_is_valid_for_its_purpose_and_no_other(acme):
    with tenant_context(acme):
        ayse, mehmet = _subject(), _subject(TCKN_MEHMET)
        _consent(ayse)
        assert selectors.consent_valid(
            subject_ids=[ayse.pk, mehmet.pk], purpose="customer_service"
        ) == {ayse.pk}
        assert selectors.consent_valid(subject_ids=[ayse.pk], purpose="marketing") == set()


def test_a_consent_is_not_valid_before_it_was_given(acme):
    with tenant_context(acme):
        ayse = _subject()
        consent = _consent(ayse)
        earlier = consent.given_at - timedelta(minutes=1)
        assert (
            selectors.consent_valid(subject_ids=[ayse.pk], purpose=consent.purpose, at=earlier)
            == set()
        )


def test_a_withdrawn_consent_is_no_longer_valid_but_was_before(acme):
    with tenant_context(acme):
        ayse = _subject()
        consent = _consent(ayse)
        services.consent_withdraw(consent=consent)
        assert selectors.consent_valid(subject_ids=[ayse.pk], purpose=consent.purpose_id) == set()
        before = consent.given_at + timedelta(minutes=1)
        assert selectors.consent_valid(
            subject_ids=[ayse.pk], purpose="customer_service", at=before
        ) == {ayse.pk}
