"""The rights panel of an application's detail page: needs only the application and the
request (the detail page includes requests/rights/fragment_actions.html)."""

from django import template

from requests import fees
from requests.services import HANDLERS

register = template.Library()


@register.inclusion_tag("requests/rights/fragment_actions_body.html", takes_context=True)
def rights_actions(context, application):
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return {
        "application": application,
        "request": request,
        "verified": application.identity_verified_at is not None,
        "can_act": getattr(user, "role", "") in HANDLERS,
        # Their sealed contents stay in the database: the fragment shows statuses only.
        "package": application.packages.defer("content_enc").order_by("-pk").first(),
        "letter": application.letters.defer("body_enc").order_by("-pk").first(),
        "notices_open": application.recipient_notices.filter(acknowledged_at__isnull=True).count(),
        "fee_due": fees.try_text(fees.fee_due_kurus(application)),
    }
