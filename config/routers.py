"""Which database a model lives in: the key database or the data database.

The key database holds only key material (settings.KEY_DATABASE_MODELS). Every
other model goes to the data database, where django-tenants decides per schema;
a few models of per-schema apps exist in the public schema only (PUBLIC_ONLY_MODELS).
"""

from django.conf import settings
from django.db import connections

KEYS = "keys"
# Models of apps that every schema has, whose table only the public schema gets: the
# processing log's signed checkpoints are the platform's, kept out of the controllers' reach.
PUBLIC_ONLY_MODELS = frozenset({"audit.checkpoint"})


def _is_key_model(app_label: str, model_name: str | None) -> bool:
    return model_name is not None and f"{app_label}.{model_name}" in settings.KEY_DATABASE_MODELS


class KeyDatabaseRouter:
    def _database_for(self, model) -> str | None:
        meta = model._meta  # a model class or an instance (also behind a lazy object)
        return KEYS if _is_key_model(meta.app_label, meta.model_name) else None

    def db_for_read(self, model, **hints):
        return self._database_for(model)

    def db_for_write(self, model, **hints):
        return self._database_for(model)

    def allow_relation(self, obj1, obj2, **hints):
        # Key rows refer to subjects by schema and uuid, never by a foreign key.
        if (self._database_for(obj1) == KEYS) != (self._database_for(obj2) == KEYS):
            return False
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # Answer for both databases explicitly: the key database gets the key tables and
        # nothing else (no RunSQL, no RunPython of any app); the data database never gets them.
        key_model = _is_key_model(app_label, model_name)
        if db == KEYS:
            return key_model
        if key_model:
            return False
        if model_name is not None and f"{app_label}.{model_name}" in PUBLIC_ONLY_MODELS:
            return getattr(connections[db], "schema_name", "public") == "public"
        return None
