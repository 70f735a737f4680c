import logging

from django.db import connection


class SchemaFilter(logging.Filter):
    """Stamps each log record with the schema it was written in."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.schema = getattr(connection, "schema_name", "-")
        return True
