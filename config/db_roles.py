"""PostgreSQL roles: the owner migrates and provisions, the runtime role serves.

KVKK Art. 12 asks for measures a processor can prove. Here: web and workers
connect as a role that owns nothing, so it can neither drop a trigger nor
truncate a table; on the processing log it may only INSERT and SELECT. The
owner role creates schemas and tables and, after every migration, grants the
runtime role what it needs (`grant_runtime_privileges`, run on post_migrate).
"""

from collections.abc import Iterable

from psycopg import sql


def grant_runtime_privileges(*, cursor, runtime: str, append_only: Iterable[str] = ()) -> None:
    """Give the runtime role DML on every table of the current schema, but only
    INSERT and SELECT on the append-only ones. Runs as the owner; idempotent."""
    cursor.execute(
        "SELECT current_schema(), current_user, EXISTS (SELECT FROM pg_roles WHERE rolname = %s)",
        [runtime],
    )
    schema, current, exists = cursor.fetchone()
    if not exists or current == runtime:
        return  # a single-role development set-up: the system check reports it
    names = {"schema": sql.Identifier(schema), "role": sql.Identifier(runtime)}
    for statement in (
        "GRANT USAGE ON SCHEMA {schema} TO {role}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
        "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
    ):
        cursor.execute(sql.SQL(statement).format(**names))
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename = ANY(%s)",
        [schema, list(append_only)],
    )
    for (table,) in cursor.fetchall():
        cursor.execute(
            sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {schema}.{table} FROM {role}").format(
                table=sql.Identifier(table), **names
            )
        )


def runtime_role_problems(*, cursor, log_table: str) -> list[str]:
    """Why the connected role is unfit to serve web and workers (empty when it is fit)."""
    cursor.execute(
        """
        SELECT r.rolsuper,
               r.rolbypassrls,
               EXISTS (SELECT FROM pg_tables t WHERE t.tablename = %s AND t.tableowner = r.rolname),
               (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relowner = r.oid
                   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')),
               (SELECT count(*) FROM pg_namespace n WHERE n.nspowner = r.oid
                   AND n.nspname NOT LIKE 'pg\\_%%' AND n.nspname <> 'information_schema'),
               has_parameter_privilege(r.rolname, 'session_replication_role', 'SET')
          FROM pg_roles r WHERE r.rolname = current_user
        """,
        [log_table],
    )
    superuser, bypass_rls, owns_log, owned_relations, owned_schemas, replication = cursor.fetchone()
    problems = []
    if superuser:
        problems.append("the database role is a superuser")
    if bypass_rls:
        problems.append("the database role bypasses row-level security")
    if owns_log:
        problems.append(f"the database role owns the processing log ({log_table})")
    if owned_relations or owned_schemas:
        problems.append(
            f"the database role owns {owned_relations} table(s) or sequence(s) "
            f"and {owned_schemas} schema(s); it must own nothing"
        )
    if replication:
        problems.append("the database role may set session_replication_role")
    return problems
