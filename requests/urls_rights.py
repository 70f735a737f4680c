"""Acting on the rights: answers, access packages, corrections, deletions, letters."""

urlpatterns: list = []
