"""Fast multi-row INSERT for bulk writes (import, demo seeding, key creation, audit batches).

Values are adapted with the fields' own database preparation, so the rows are exactly what the
ORM would write; nothing here bypasses validation, which the calling service has done.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connection, connections


class BulkInserter:
    """INSERT rows of one model with a single prepared statement (``executemany``).

    Django's ``bulk_create`` compiles every value of every row into SQL text (about 3.5 µs a
    value) and SQLite's backend caps a statement at 999 parameters (39 customers); importing
    100,000 customers that way costs more than everything else together. Values are adapted with
    the fields' own database preparation (UUIDs, datetimes), once per distinct datetime.
    """

    def __init__(self, model, columns: tuple[str, ...] | None = None):
        fields = [f for f in model._meta.concrete_fields if columns is None or f.attname in columns]
        self.fields = fields
        self.names = [f.attname for f in fields]
        self.adapters = [_adapter(f) for f in fields]
        self.defaults = [_column_default(f) for f in fields]
        quote = connection.ops.quote_name
        self.sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields)))
        self.pending: list[tuple] = []
        self._plan = list(zip(self.names, self.adapters, self.defaults, strict=True))
        self._adapt_slots: list | None = None

    def add(self, values: dict) -> None:
        """Queue one row; columns left out take their constant default (or NULL)."""
        self.pending.append(self.row(values))

    def row(self, values: dict) -> tuple:
        """One row's parameters for ``sql``; columns left out take their constant default (or NULL)."""
        if self._adapt_slots is None:
            self._getter = operator.itemgetter(*self.names)
            self._adapt_slots = [(i, adapt) for i, adapt in enumerate(self.adapters) if adapt is not _identity]
        try:
            row = list(self._getter(values))  # every column given: the common, fast case
        except KeyError:
            return self._row_with_defaults(values)
        for i, adapt in self._adapt_slots:
            if row[i] is not None:
                row[i] = adapt(row[i])
        return tuple(row)

    def _row_with_defaults(self, values: dict) -> tuple:
        try:
            return tuple(
                (values[name] if adapt is _identity else adapt(values[name])) if name in values
                else (default if adapt is _identity else adapt(default)) if default is not _REQUIRED
                else _missing(self.sql, name)
                for name, adapt, default in self._plan)
        except _MissingColumn as exc:
            raise ValueError(str(exc)) from None

    def maker(self, constants: dict, varying: tuple[str, ...]) -> Callable[[tuple], tuple]:
        """A row maker for many rows that share ``constants``: ``make(values)`` returns the row
        with ``values`` (in the order of ``varying``) adapted as ``add`` adapts them. Columns in
        neither take their constant default. Rows made here are queued with ``extend``; they are
        plain tuples, so a worker process can make them (bulk import)."""
        base, slots = [], []
        for name, adapt, default in self._plan:
            if name in varying:
                base.append(None)
            elif name in constants:
                value = constants[name]
                base.append(value if adapt is _identity or value is None else adapt(value))
            elif default is not _REQUIRED:
                base.append(default if adapt is _identity or default is None else adapt(default))
            else:
                raise ValueError(f"{self.sql.split('(')[0]}: column {name} needs a value")
        for name in varying:
            adapt = self.adapters[self.names.index(name)]
            slots.append((self.names.index(name), None if adapt is _identity else adapt))

        def make(values: tuple) -> tuple:
            row = base.copy()
            for (index, adapt), value in zip(slots, values, strict=True):
                row[index] = value if adapt is None or value is None else adapt(value)
            return tuple(row)

        return make

    def extend(self, rows) -> None:
        """Queue rows made by ``maker``."""
        self.pending.extend(rows)

    def flush(self) -> None:
        if self.pending:
            with connection.cursor() as cursor:
                cursor.executemany(self.sql, self.pending)
            self.pending = []


def _identity(value):
    return value


class _MissingColumn(Exception):
    pass


def _missing(sql: str, name: str):
    raise _MissingColumn(f"{sql.split('(')[0]}: column {name} needs a value")


_REQUIRED = object()


def _column_default(field):
    """A constant default for a column the caller may leave out, else _REQUIRED."""
    if field.has_default() and not callable(field.default):
        return field.default
    if field.null:
        return None
    return _REQUIRED


def _adapter(field) -> Callable:
    target = field.target_field if field.is_relation else field
    kind = target.get_internal_type()
    if kind in ("CharField", "TextField", "BooleanField", "BinaryField", "IntegerField", "BigIntegerField",
                "PositiveIntegerField", "AutoField", "BigAutoField", "SmallIntegerField"):
        return _identity
    conn = connections[DEFAULT_DB_ALIAS]  # resolved once, not per value
    if kind == "UUIDField":
        if conn.features.has_native_uuid_field:
            return _identity
        return lambda value: None if value is None else value.hex
    if kind == "JSONField":
        adapt_json, encoder = conn.ops.adapt_json_value, target.encoder
        return lambda value: None if value is None else adapt_json(value, encoder)
    if kind == "DateTimeField":
        return functools.lru_cache(maxsize=8)(lambda value: target.get_db_prep_save(value, conn))
    return lambda value: target.get_db_prep_save(value, conn)
