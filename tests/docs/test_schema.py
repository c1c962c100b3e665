"""Schemas as rows: `$ref`s followed, `allOf` merged, nesting named by path, nullables read."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.docs.schema import Resolver

SPEC: dict[str, Any] = {
    "components": {
        "schemas": {
            "Page": {
                "type": "object",
                "required": ["items", "total"],
                "properties": {
                    "items": {"type": "array", "items": {}, "description": "This page."},
                    "total": {"type": "integer", "minimum": 0},
                },
            },
            "Item": {
                "type": "object",
                "required": ["id"],
                "properties": {
                    "id": {"type": "string", "pattern": "^itm_", "examples": ["itm_1"]},
                    "parent": {"oneOf": [{"$ref": "#/components/schemas/Item"}, {"type": "null"}]},
                    "note": {"type": ["string", "null"], "maxLength": 200},
                },
            },
            "ItemPage": {
                "description": "A page of items.",
                "allOf": [
                    {"$ref": "#/components/schemas/Page"},
                    {"properties": {"items": {"items": {"$ref": "#/components/schemas/Item"}}}},
                ],
            },
            "Advance": {
                "oneOf": [
                    {"type": "object", "properties": {"days": {"type": "integer"}}},
                    {"type": "object", "properties": {"to": {"type": "string", "format": "date"}}},
                ]
            },
        }
    }
}


def rows(name: str) -> dict[str, Any]:
    view = Resolver(SPEC).view({"$ref": f"#/components/schemas/{name}"})
    return {f.path + f.name: f for f in view.fields}


def test_all_of_merges_parts_and_keeps_the_outer_description():
    view = Resolver(SPEC).view({"$ref": "#/components/schemas/ItemPage"})
    assert view.name == "ItemPage"
    assert view.description == "A page of items."
    fields = rows("ItemPage")
    assert list(fields)[:2] == ["items", "items[].id"]
    assert fields["items"].description == "This page."
    assert fields["items"].type == "array of object"
    assert fields["items"].required and fields["total"].required


def test_a_reference_to_an_enclosing_schema_is_not_expanded_again():
    fields = rows("Item")
    assert fields["parent"].type == "nullable object"
    assert not any(name.startswith("parent.") for name in fields)


@pytest.mark.parametrize(
    ("field", "type_", "notes"),
    [
        ("id", "string", ("Pattern `^itm_`.", "Example `itm_1`.")),
        ("note", "nullable string", ("At most 200 characters.",)),
    ],
)
def test_types_and_constraints_read_as_words(field, type_, notes):
    row = rows("Item")[field]
    assert (row.type, row.notes) == (type_, notes)


def test_one_of_objects_become_variants():
    view = Resolver(SPEC).view({"$ref": "#/components/schemas/Advance"})
    assert view.type == "one of"
    assert [[f.name for f in v.fields] for v in view.variants] == [["days"], ["to"]]
    assert view.variants[1].fields[0].type == "string (date)"
