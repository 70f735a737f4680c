"""Bulk writes with COPY: one round trip per table per batch.

Callers send batches of at most settings.API_BULK_MAX_SUBJECTS subjects, so one
batch's ciphertexts stay a few MB in memory and a failed batch rolls back as a
whole. Rows may come from a generator: PostgreSQL stores one part while Python
computes the next.
"""

import functools
from collections.abc import Iterable
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, connection, connections, models


def _pg_type(field: models.Field) -> str:
    """The type name psycopg's binary COPY wants for a model field."""
    name = field.db_type(connection).split("(")[0].strip()
    return {"timestamp with time zone": "timestamptz", "integer": "int4"}.get(name, name)


@functools.cache
def _copy_statement(model: type[models.Model], columns: tuple[str, ...]) -> tuple[str, list[str]]:
    fields = [model._meta.get_field(name) for name in columns]
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN (FORMAT BINARY)"
    return sql, [_pg_type(field) for field in fields]


def copy_rows(
    model: type[models.Model],
    columns: tuple[str, ...],
    rows: Iterable[tuple],
    *,
    using: str = DEFAULT_DB_ALIAS,
) -> None:
    """COPY rows in binary format: ciphertexts travel as bytes, not as escaped hex text.

    ``rows`` may be a generator: psycopg sends every 32 kB it fills, so the
    server inserts while the generator computes the rest.
    """
    sql, types = _copy_statement(model, columns)
    target = connections[using]
    with (
        target.wrap_database_errors,  # IntegrityError etc., as for any Django query
        target.cursor() as cursor,
        cursor.cursor.copy(sql) as copy,
    ):
        copy.set_types(types)
        write = copy.write_row
        for row in rows:
            write(row)


@functools.cache
def _history_statement(model: type[models.Model]) -> str:
    """INSERT … SELECT of history records ("+" or "~") for rows just written, done by the server."""
    quote = connection.ops.quote_name
    historical = model.history.model
    own = {f.name for f in model._meta.concrete_fields}
    tracked = [
        f.column
        for f in historical._meta.concrete_fields
        if f.name in own and not f.name.startswith("history_")
    ]
    columns = ", ".join(quote(column) for column in tracked)
    marks = ", ".join(
        quote(historical._meta.get_field(name).column)
        for name in ("history_date", "history_type", "history_user", "history_change_reason")
    )
    return (
        f"INSERT INTO {quote(historical._meta.db_table)} ({columns}, {marks})"  # noqa: S608
        f" SELECT {columns}, %s, %s, %s, %s FROM {quote(model._meta.db_table)}"
        " WHERE id = ANY(%s)"
    )


def history_record(
    model: type[models.Model],
    ids: list[int],
    *,
    when: datetime,
    actor_id: int | None,
    reason: str,
    change: bool = False,
) -> None:
    """The same creation records simple-history writes (or change records, ``change``),
    copied from the stored rows."""
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(
                _history_statement(model), [when, "~" if change else "+", actor_id, reason, ids]
            )


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` ids from the table's own sequence (one array: far cheaper than ``count`` rows)."""
    if count == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            # MATERIALIZED: otherwise the sequence's name is looked up again for every id.
            "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq)"
            " SELECT array_agg(nextval(seq)) FROM s, generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return cursor.fetchone()[0]
