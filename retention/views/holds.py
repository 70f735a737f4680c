"""Holds pages of the retention app."""

urlpatterns: list = []
