"""Identity verification by an electronically signed application (PAdES or CMS)."""

urlpatterns: list = []
