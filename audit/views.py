from django.core.paginator import Paginator
from django.shortcuts import render

from accounts.access import AUDIT_READERS, role_required
from audit.models import Action
from audit.selectors import audit_entry_list

PAGE_SIZE = 50


@role_required(*AUDIT_READERS)
def entry_list_view(request):
    action = request.GET.get("action", "")
    if action not in Action.values:
        action = ""
    actor = request.GET.get("actor", "").strip()[:150]
    page = Paginator(audit_entry_list(action=action, actor=actor), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "actions": Action.choices, "action": action, "actor": actor}
    template = "audit/fragment_entries.html" if request.htmx else "audit/entry_list.html"
    return render(request, template, context)
