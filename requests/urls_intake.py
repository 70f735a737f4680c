"""The application form, identity verification, and following an application."""

urlpatterns: list = []
