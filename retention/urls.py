"""Pages of the retention app; each area keeps its own routes in retention/views/<area>.py."""

from django.urls import path

from retention.views import holds, minutes, overview, policy, rules, runs, subject

app_name = "retention"

urlpatterns = [
    path("", overview.index_view, name="index"),
    *rules.urlpatterns,
    *holds.urlpatterns,
    *policy.urlpatterns,
    *runs.urlpatterns,
    *minutes.urlpatterns,
    *subject.urlpatterns,
]
