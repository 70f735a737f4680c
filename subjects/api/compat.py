"""Keep DRF from mistaking our `requests` app for the PyPI package.

DRF treats PyPI's ``requests`` as optional (``rest_framework.compat`` does
``try: import requests``) and, when it finds one, ``rest_framework.test``
subclasses ``requests.packages...``. Here ``requests`` is the data-subject
applications app, so that "succeeds" and then crashes; drf-spectacular
imports ``rest_framework.test`` for schema generation. We tell DRF what is
true — the PyPI package is not installed — before that import happens.
"""

import sys

_ours = sys.modules.get("requests")
sys.modules["requests"] = None  # type: ignore[assignment]  # "import requests" raises ImportError
try:
    import rest_framework.compat

    rest_framework.compat.requests = None  # also when compat was imported before us
    import rest_framework.test
finally:
    if _ours is not None:
        sys.modules["requests"] = _ours
    else:
        del sys.modules["requests"]
