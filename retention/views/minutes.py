"""Minutes pages of the retention app."""

urlpatterns: list = []
