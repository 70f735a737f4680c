from django.shortcuts import render

from accounts.access import ANY_ROLE, role_required
from retention.backlog import backlog_panel


@role_required(*ANY_ROLE)
def index_view(request):
    return render(request, "retention/index.html", {"backlog": backlog_panel()})
