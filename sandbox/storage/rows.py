"""Core statements over a model's table, built once per model: rows read and written
without the ORM's unit of work, carrying the model's attribute names.

A model's `to_api` reads only its mapped columns, so it serializes such a row as it
would an instance.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Insert, insert, inspect
from sqlalchemy.sql.elements import ColumnElement


@functools.cache
def columns_of(model: type) -> tuple[ColumnElement[Any], ...]:
    """The model's table columns, each labeled with its attribute name."""
    return tuple(attr.columns[0].label(attr.key) for attr in inspect(model).mapper.column_attrs)


@functools.cache
def inserting(model: type) -> Insert:
    """An INSERT of one `model` row that returns the row as stored (column defaults applied).

    Its parameters are column names; every column of the model has its attribute's name.
    """
    mapper = inspect(model).mapper
    renamed = [a.key for a in mapper.column_attrs if a.key != a.columns[0].key]
    if renamed:
        raise TypeError(f"{model.__name__} names columns apart from attributes: {renamed}")
    return insert(mapper.local_table).returning(*columns_of(model))
