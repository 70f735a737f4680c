"""A breach on the processor's side, recorded once in the admin, reaches each affected
controller's portal and contact e-mail with the processor's timeline, and only once."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

import config.celery
from tenants.models import ProcessorBreach, ProcessorBreachNotification
from tenants.tasks import processor_breach_deliver
from tests.conftest import portal_client
from transfers.models import Breach

pytestmark = pytest.mark.django_db

PUBLIC = "config.urls_public"


@pytest.fixture
def queued(monkeypatch):
    """The tasks the fan-out queues, run here one by one as the worker would."""
    sent = []
    monkeypatch.setattr(
        config.celery.app,
        "send_task",
        lambda name, kwargs=None, **options: sent.append((name, kwargs)),
    )
    return sent


def _deliver(queued) -> list[bool]:
    results = []
    for name, kwargs in queued:
        assert name == "tenants.tasks.processor_breach_deliver"
        results.append(processor_breach_deliver.apply(kwargs=kwargs).get())
    queued.clear()
    return results


def _form(*controllers) -> dict:
    now = timezone.localtime()
    return {
        "title": "Yedekleme sunucusuna yetkisiz erişim",
        "occurred_at_0": (now - timedelta(hours=30)).strftime("%Y-%m-%d"),
        "occurred_at_1": (now - timedelta(hours=30)).strftime("%H:%M:%S"),
        "detected_at_0": (now - timedelta(hours=2)).strftime("%Y-%m-%d"),
        "detected_at_1": (now - timedelta(hours=2)).strftime("%H:%M:%S"),
        "description": "Yedekleme sunucusunda zararlı yazılım bulundu.",
        "data_categories": "İletişim, kimlik",
        "estimated_persons": "800",
        "estimated_records": "2400",
        "consequences": "Kimlik avı riski.",
        "measures_taken": "Sunucu ağdan ayrıldı.",
        "measures_planned": "",
        "contact_name": "Platform Güvenlik Ekibi",
        "contact_email": "guvenlik@platform.example.com.tr",
        "controllers": [tenant.pk for tenant in controllers],
    }


def test_a_processor_breach_reaches_two_affected_controllers_once_and_not_a_third(
    acme, globex, committed_tenant, queued, django_capture_on_commit_callbacks
):
    third = committed_tenant("ihlaldisi")
    acme.contact_email, globex.contact_email = "kvkk@acme.com.tr", "kvkk@globex.com.tr"
    acme.save(update_fields=["contact_email"])
    globex.save(update_fields=["contact_email"])
    admin = portal_client(None, "root")

    # when a platform admin records the breach once, for acme and globex
    with django_capture_on_commit_callbacks(execute=True):
        page = admin.post(
            reverse("admin:tenants_processorbreach_add", urlconf=PUBLIC), _form(acme, globex)
        )
    assert page.status_code == 302, page.content.decode()[:3000]
    assert sorted(kwargs["schema_name"] for _, kwargs in queued) == ["acme", "globex"]
    assert _deliver(queued) == [True, True]

    # then each affected controller has it in its register, with the processor's timeline
    report = ProcessorBreach.objects.get()
    for tenant in (acme, globex):
        with tenant_context(tenant):
            breach = Breach.objects.get(processor_breach_id=report.pk)
            assert breach.source == Breach.Source.PROCESSOR
            assert breach.processor_detected_at == report.detected_at
            assert breach.processor_notified_at == report.controllers_notified_at
            # the controller's 72 hours run from when the processor told it
            assert breach.detected_at == report.controllers_notified_at
    with tenant_context(third):
        assert not Breach.objects.exists()
    # and each controller's contact got an e-mail with the processor's timeline
    assert sorted(message.to[0] for message in mail.outbox) == [
        "kvkk@acme.com.tr",
        "kvkk@globex.com.tr",
    ]
    body = mail.outbox[0].body
    assert "Veri işleyenin tespit zamanı" in body
    assert "Veri sorumlularına bildirim zamanı" in body
    assert timezone.localtime(report.detected_at).strftime("%d.%m.%Y %H:%M") in body

    # when it is saved again, and the admin action is run on it
    mail.outbox.clear()
    change = reverse("admin:tenants_processorbreach_change", args=[report.pk], urlconf=PUBLIC)
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.post(change, _form(acme, globex)).status_code == 302
        admin.post(
            reverse("admin:tenants_processorbreach_changelist", urlconf=PUBLIC),
            {"action": "notify_controllers", "_selected_action": [report.pk]},
        )
    # then nobody is told twice
    assert queued == []
    assert mail.outbox == []
    assert ProcessorBreachNotification.objects.filter(breach=report).count() == 2

    # and the notice shows on each controller's dashboard
    dashboard = portal_client(acme, "owner").get(reverse("dashboard", urlconf="config.urls_tenant"))
    text = dashboard.content.decode()
    assert "Yedekleme sunucusuna yetkisiz erişim" in text
    assert "veri işleyen bildirdi" in text


def test_a_delivery_run_twice_records_the_breach_once(acme, queued):
    report = ProcessorBreach.objects.create(
        title="Çift teslim",
        occurred_at=timezone.now() - timedelta(hours=3),
        detected_at=timezone.now() - timedelta(hours=1),
        description="Deneme",
        contact_name="Güvenlik",
        contact_email="guvenlik@platform.example.com.tr",
    )
    report.controllers.set([acme])
    from tenants.processor_breaches import processor_breach_notify

    assert processor_breach_notify(breach=report) == ["acme"]
    assert processor_breach_notify(breach=report) == []
    kwargs = {"schema_name": "acme", "processor_breach_id": report.pk}
    assert processor_breach_deliver.apply(kwargs=kwargs).get() is True
    assert processor_breach_deliver.apply(kwargs=kwargs).get() is False
    with tenant_context(acme):
        assert Breach.objects.filter(processor_breach_id=report.pk).count() == 1


def test_a_processor_breach_detected_before_it_occurred_is_refused_in_the_admin(acme, globex):
    admin = portal_client(None, "root")
    form = _form(acme)
    form["detected_at_0"] = (timezone.localtime() - timedelta(days=5)).strftime("%Y-%m-%d")

    page = admin.post(reverse("admin:tenants_processorbreach_add", urlconf=PUBLIC), form)

    assert page.status_code == 200
    assert "gerçekleşmeden önce tespit edilemez" in page.content.decode()
    assert not ProcessorBreach.objects.exists()


def _report(*controllers, detected_hours_ago: float = 1) -> ProcessorBreach:
    detected = timezone.now() - timedelta(hours=detected_hours_ago)
    report = ProcessorBreach.objects.create(
        title="Geç kalan teslim",
        occurred_at=detected - timedelta(hours=2),
        detected_at=detected,
        description="Deneme",
        contact_name="Güvenlik",
        contact_email="guvenlik@platform.example.com.tr",
    )
    report.controllers.set(controllers)
    return report


def test_a_delivery_a_worker_never_finished_is_queued_again_until_it_is_delivered(
    acme, globex, queued
):
    from tenants.processor_breaches import processor_breach_notify
    from tenants.tasks import processor_breach_redeliver

    report = _report(acme, globex)
    processor_breach_notify(breach=report)
    queued.clear()  # as if the worker lost both deliveries
    _deliver_one = {"schema_name": "acme", "processor_breach_id": report.pk}
    assert processor_breach_deliver.apply(kwargs=_deliver_one).get() is True

    assert processor_breach_redeliver.apply().get() == []  # not stalled yet
    ProcessorBreachNotification.objects.update(queued_at=timezone.now() - timedelta(minutes=20))

    assert processor_breach_redeliver.apply().get() == ["globex"]
    assert _deliver(queued) == [True]
    assert processor_breach_redeliver.apply().get() == []
    with tenant_context(globex):
        assert Breach.objects.filter(processor_breach_id=report.pk).exists()


def test_the_admin_shows_the_processors_delay_and_flags_it_when_late(acme):
    admin = portal_client(None, "root")
    on_time = _report(acme, detected_hours_ago=1)
    on_time.controllers_notified_at = on_time.detected_at + timedelta(minutes=30)
    on_time.save()
    late = _report(acme, detected_hours_ago=40)
    late.title = "Bekletilmiş ihlal"
    late.save()

    page = admin.get(reverse("admin:tenants_processorbreach_changelist", urlconf=PUBLIC))

    text = page.content.decode()
    assert "30 dakika" in text
    assert "henüz bildirilmedi · geç" in text
