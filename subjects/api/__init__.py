# DRF's test module must be loaded before drf_spectacular; see compat.py for why.
from subjects.api import compat  # noqa: F401
