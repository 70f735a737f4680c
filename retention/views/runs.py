"""Runs pages of the retention app."""

urlpatterns: list = []
