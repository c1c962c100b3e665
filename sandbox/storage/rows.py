"""Core statements over a model's table, built once per model: rows read and written
without the ORM's unit of work, carrying the model's attribute names.

A model's `to_api` reads only its mapped columns, so it serializes such a row as it
would an instance.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, Insert, insert, null
from sqlalchemy.orm import Mapper, class_mapper
from sqlalchemy.sql.elements import ColumnElement

from sandbox.storage.base import table_of


@functools.cache
def columns_of(model: type) -> tuple[ColumnElement[Any], ...]:
    """The model's table columns, each labeled with its attribute name."""
    return tuple(attr.columns[0].label(attr.key) for attr in class_mapper(model).column_attrs)


@functools.cache
def inserting(model: type) -> Insert:
    """An INSERT of one `model` row that returns the row as stored.

    Its parameters are column names, one for every column (see `completed`); every
    column of the model has its attribute's name.
    """
    adding(model)  # checks the model
    # A statement of its own: `returning()` on `adding`'s copies what it memoized
    # (its columns, none).
    return insert(table_of(model)).returning(*columns_of(model))


@functools.cache
def adding(model: type) -> Insert:
    """An INSERT of one `model` row that returns nothing; parameters as `inserting`'s."""
    mapper: Mapper[Any] = class_mapper(model)
    renamed = [a.key for a in mapper.column_attrs if a.key != a.columns[0].key]
    if renamed:
        raise TypeError(f"{model.__name__} names columns apart from attributes: {renamed}")
    _defaults(model)  # refuses defaults that only the database could apply
    return insert(table_of(model))


def completed(model: type, values: dict[str, Any]) -> dict[str, Any]:
    """`values` with every other column of `model` at its default: the column's
    Python-side default, else SQL NULL (what the database stores for a column left out)."""
    row = dict(values)
    for name, make in _defaults(model):
        if name not in row:
            row[name] = make()
    return row


@functools.cache
def _defaults(model: type) -> tuple[tuple[str, Callable[[], Any]], ...]:
    makers = []
    for column in table_of(model).columns:
        default: Any = column.default  # a ScalarElementColumnDefault or CallableColumnDefault
        if column.server_default is not None or (
            default is not None and not (default.is_scalar or default.is_callable)
        ):
            raise TypeError(f"{model.__name__}.{column.key} has a default only SQL applies")
        if default is None:  # JSON would bind None as JSON's null, not SQL's NULL
            makers.append((column.key, null if isinstance(column.type, JSON) else _none))
        elif default.is_scalar:
            makers.append((column.key, functools.partial(_value, default.arg)))
        else:  # SQLAlchemy wraps a callable default to take the execution context
            makers.append((column.key, functools.partial(default.arg, None)))
    return tuple(makers)


def _none() -> None:
    return None


def _value(value: Any) -> Any:
    return value
