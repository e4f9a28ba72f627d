"""SQLAlchemy statements compiled once for SQLite's own `sqlite3` connection (`Database.direct_read`).

For the hottest reads only: there the ORM session and SQLAlchemy's per-statement work (the compiled
cache's lookup, parameter processing, result rows) cost more CPU than SQLite's own work. A statement
is still written with SQLAlchemy; this compiles it for SQLite and runs it on the connection with
positional parameters, its rows as named tuples. SQLAlchemy's result conversions do not run: a
statement may only select columns whose SQLite values need none, or the booleans its caller names
(SQLite gives 0 and 1 for them), which `compile_direct` checks. `load_detached` reads one ORM
object by its key, with SQLAlchemy's conversions, as a closed session would have left it.
"""

from __future__ import annotations

import functools
import sqlite3
from collections import namedtuple
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, inspect, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state


_SQLITE = sqlite.dialect()


def _conversion(column: Any) -> Any:
    """SQLAlchemy's conversion of `column`'s SQLite values, or None when it takes them as they are."""
    return column.type.dialect_impl(_SQLITE).result_processor(_SQLITE, None)


class DirectStatement(NamedTuple):
    sql: str
    names: tuple[str, ...]  # its positional parameters, in order
    defaults: dict[str, Any]  # the values SQLAlchemy bound itself (a LIMIT 1, an OFFSET 0)
    row: Any  # a named tuple of its columns, also readable as `row._mapping` as a SQLAlchemy row is

    def execute(self, conn: sqlite3.Connection, **values: Any) -> sqlite3.Cursor:
        values = {**self.defaults, **values}
        return conn.execute(self.sql, [values[name] for name in self.names])

    def rows(self, conn: sqlite3.Connection, **values: Any) -> list[Any]:
        return list(map(self.row._make, self.execute(conn, **values)))


def compile_direct(statement: Select[Any], booleans: frozenset[str] = frozenset()) -> DirectStatement:
    """`statement` for `DirectStatement.execute`; `booleans`: the columns left as 0 and 1 for the caller
    to read as booleans. Raises TypeError for any other column SQLAlchemy would convert."""
    converted = {column.name for column in statement.selected_columns if _conversion(column) is not None}
    if not converted <= booleans:
        raise TypeError(f"columns SQLAlchemy would convert from SQLite's values: {sorted(converted - booleans)}")
    compiled = statement.compile(dialect=_SQLITE)
    row = namedtuple("DirectRow", statement.selected_columns.keys())  # type: ignore[misc]  # noqa: PYI024
    row._mapping = property(row._asdict)
    return DirectStatement(str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params), row)


class _Loader(NamedTuple):
    sql: str
    keys: tuple[str, ...]  # the mapped attribute of each selected column
    processors: tuple[Any, ...]  # SQLAlchemy's conversion of each column's SQLite value, or None


@functools.cache
def _loader(model: Any) -> _Loader:
    mapper = inspect(model)
    (pk,) = mapper.primary_key
    columns = [prop.columns[0] for prop in mapper.column_attrs]
    statement = select(*columns).where(pk == bindparam("pk"))
    return _Loader(str(statement.compile(dialect=_SQLITE)), tuple(prop.key for prop in mapper.column_attrs),
                   tuple(_conversion(column) for column in columns))


def load_detached(conn: sqlite3.Connection, model: Any, pk: Any) -> Any:
    """The `model` row with primary key `pk`, read on `conn`, as a detached ORM object: what
    `session.get(model, pk)` gives once its session has closed (every column loaded, SQLAlchemy's
    conversions applied), for about a tenth of the CPU; None if there is no such row. Only for a model
    without relationships and a single-column primary key."""
    loader = _loader(model)
    row = conn.execute(loader.sql, (pk,)).fetchone()
    if row is None:
        return None
    obj = inspect(model).class_manager.new_instance()
    values = instance_state(obj).dict
    for key, process, value in zip(loader.keys, loader.processors, row):
        values[key] = value if process is None or value is None else process(value)
    make_transient_to_detached(obj)
    return obj
