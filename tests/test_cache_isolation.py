"""Cache keys carry the schema: one tenant never reads another's entries."""

from django.core.cache import cache
from django_tenants.utils import tenant_context


def test_cache_entry_of_one_tenant_is_invisible_to_another(acme, globex):
    with tenant_context(acme):
        cache.set("dashboard-figures", "acme's figures", 30)
    try:
        with tenant_context(globex):
            assert cache.get("dashboard-figures") is None
        with tenant_context(acme):
            assert cache.get("dashboard-figures") == "acme's figures"
    finally:
        with tenant_context(acme):
            cache.delete("dashboard-figures")
