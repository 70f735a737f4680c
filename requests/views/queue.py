from django.shortcuts import render

from accounts.access import ANY_ROLE, role_required


@role_required(*ANY_ROLE)
def index_view(request):
    return render(request, "requests/index.html")
