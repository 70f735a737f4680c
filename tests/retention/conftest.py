"""The register's API helpers, for tests that need a subject to hold or to end."""

from tests.subjects.conftest import api, globex_api  # noqa: F401
