"""The app `requests` shadows the PyPI package of the same name; this must stay visible."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_requests_resolves_to_our_app():
    import requests

    assert Path(requests.__file__).resolve().parent == ROOT / "requests"
    assert not hasattr(requests, "get"), "the PyPI 'requests' package was loaded in-process"
