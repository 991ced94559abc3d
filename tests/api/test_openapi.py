"""The OpenAPI document of the live server documents every operation in French, with examples.

Every operation has a French summary (not FastAPI's default, the function's name in English) and a description;
every schema of ``components.schemas`` has an example (its own, or one on each required property); the success
answer of every operation has one (on each media type, or through its schema); every parameter that takes a free
value has one. And every example is valid against its schema, so that a client may send it as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from tests.api.conftest import Api

METHODS = ("get", "post", "put", "patch", "delete")
#: English words FastAPI or a hurried author would start a summary with.
ENGLISH = {
    "get", "list", "search", "create", "update", "delete", "read", "return", "returns", "fetch", "find", "show",
    "the", "a", "an", "one", "all", "root", "accept", "reject", "post", "put", "patch", "make", "add", "remove",
}  # fmt: skip
#: What tells a French sentence: an accented letter or a frequent word.
FRENCH = re.compile(
    r"[àâçéèêëîïôûùüÿœ]|\b(de|des|du|la|le|les|un|une|et|ou|en|au|aux|par|pour|son|sa|ses)\b|\b[ldj]'", re.I
)


@pytest.fixture(scope="module")
def spec(api: Api) -> dict[str, Any]:
    return httpx.get(f"{api.url}/openapi.json", timeout=30).json()


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def has_example(item: dict[str, Any]) -> bool:
    return bool(item.get("example") is not None or item.get("examples"))


def example_values(item: dict[str, Any]) -> list[Any]:
    """The examples of a schema, parameter or media type (``example``, ``examples`` as a list or as a map)."""
    values = [item["example"]] if "example" in item else []
    examples = item.get("examples") or []
    if isinstance(examples, dict):
        values += [e["value"] for e in examples.values() if "value" in e]
    else:
        values += list(examples)
    return values


def validator(spec: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of ``schema`` whose ``#/components/…`` references resolve in the document."""
    return Draft202012Validator({**schema, "components": spec["components"]})


def schema_has_example(spec: dict[str, Any], schema: dict[str, Any]) -> bool:
    """An example on the schema (through ``$ref``), or on each of its required properties (each property, when
    none is required); an array through its items."""
    schema = resolve(spec, schema)
    if has_example(schema):
        return True
    if schema.get("type") == "array" and "items" in schema:
        return schema_has_example(spec, schema["items"])
    properties = schema.get("properties") or {}
    wanted = schema.get("required") or list(properties)
    return bool(wanted) and all(has_example(resolve(spec, properties[name])) for name in wanted)


def test_every_operation_has_a_french_summary_and_a_description(spec: dict[str, Any]) -> None:
    faults = []
    for name, op in operations(spec):
        summary = (op.get("summary") or "").strip()
        default = op.get("operationId", "").replace("_", " ").title()  # what FastAPI would show
        first = summary.split(" ", 1)[0].lower().strip(".,:;") if summary else ""
        if not summary or summary == default or first in ENGLISH or not FRENCH.search(summary):
            faults.append(f"{name}: résumé {summary!r}")
        if not (op.get("description") or "").strip():
            faults.append(f"{name}: pas de description")
    assert len(list(operations(spec))) >= 30
    assert not faults, "\n".join(faults)


def test_every_schema_has_a_french_description_when_it_has_one(spec: dict[str, Any]) -> None:
    english = [
        f"{name}: {schema['description'][:80]!r}"
        for name, schema in spec["components"]["schemas"].items()
        if schema.get("description") and not FRENCH.search(schema["description"])
    ]
    assert not english, "\n".join(english)


def test_every_schema_has_an_example(spec: dict[str, Any]) -> None:
    missing = [name for name, schema in spec["components"]["schemas"].items() if not schema_has_example(spec, schema)]
    assert len(spec["components"]["schemas"]) >= 40
    assert not missing, f"schémas sans exemple : {', '.join(missing)}"


def test_every_schema_example_is_valid(spec: dict[str, Any]) -> None:
    faults = []
    for name, schema in spec["components"]["schemas"].items():
        check = validator(spec, {"$ref": f"#/components/schemas/{name}"})
        for value in example_values(schema):
            faults += [f"{name}: {e.json_path} {e.message[:200]}" for e in check.iter_errors(value)]
        for prop_name, prop in (schema.get("properties") or {}).items():
            for value in example_values(prop):
                sub = validator(spec, prop)
                faults += [f"{name}.{prop_name}: {e.message[:200]}" for e in sub.iter_errors(value)]
    assert not faults, "\n".join(faults)


def success(op: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The operation's 200 answer, else its first 2xx (a 201 for a creation)."""
    codes = sorted(c for c in op["responses"] if c.startswith("2"))
    assert codes, "aucune réponse 2xx documentée"
    code = "200" if "200" in codes else codes[0]
    return code, op["responses"][code]


def test_every_success_answer_has_an_example(spec: dict[str, Any]) -> None:
    faults = []
    for name, op in operations(spec):
        code, answer = success(op)
        content = answer.get("content") or {}
        if not content:
            faults.append(f"{name} {code}: aucun contenu documenté")
        for media, item in content.items():
            if not has_example(item) and not ("schema" in item and schema_has_example(spec, item["schema"])):
                faults.append(f"{name} {code} {media}: sans exemple")
            schema = item.get("schema")
            for value in example_values(item) if schema else []:
                check = validator(spec, schema)
                faults += [f"{name} {code} {media}: {e.message[:200]}" for e in check.iter_errors(value)]
    assert not faults, "\n".join(faults)


def test_every_free_parameter_has_a_valid_example(spec: dict[str, Any]) -> None:
    """A parameter whose values are not an enumeration (free text, codes, numbers) shows at least one example."""
    faults = []
    for name, op in operations(spec):
        for param in op.get("parameters", []):
            schema = param.get("schema") or {}
            label = f"{name} {param['in']}.{param['name']}"
            choices = [s for s in [schema, *schema.get("anyOf", [])] if "enum" in s or "const" in s]
            values = example_values(param) + example_values(schema)
            if not values and not choices:
                faults.append(f"{label}: sans exemple")
            for value in values:
                faults += [f"{label}: {e.message[:200]}" for e in validator(spec, schema).iter_errors(value)]
    assert not faults, "\n".join(faults)


def test_every_request_body_has_an_example(spec: dict[str, Any]) -> None:
    faults = []
    for name, op in operations(spec):
        for media, item in (op.get("requestBody") or {}).get("content", {}).items():
            schema = item.get("schema") or {}
            branches = [resolve(spec, s) for s in schema.get("oneOf", [])] or [schema]
            if not has_example(item) and not all(schema_has_example(spec, b) for b in branches):
                faults.append(f"{name} {media}: corps sans exemple")
    assert not faults, "\n".join(faults)
