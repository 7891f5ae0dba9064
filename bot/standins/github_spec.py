"""GitHub's REST operations as its OpenAPI description defines them: matching, validating, completing.

Reads the extract in specs/github/operations.json (how it was made: specs/github/README.md). The
schema checker is a compact subset of JSON Schema (type, nullable, required, properties,
additionalProperties, items, enum, allOf/anyOf/oneOf, $ref): enough to hold requests and answers to
what the description promises.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

SPEC_PATH = Path(__file__).resolve().parent / "specs" / "github" / "operations.json"
# Path parameters that may hold a slash: a branch name, or "base...head" of two branch names.
GREEDY_PARAMETERS = frozenset({"ref", "basehead"})
FIXED_TIME = "2024-01-01T00:00:00Z"
PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    parameters: tuple[dict[str, Any], ...]
    body: dict[str, Any] | None  # the requestBody, $refs resolved at the top
    responses: dict[str, dict[str, Any]]

    def response_schema(self, status: int) -> dict[str, Any] | None:
        response = self.responses.get(str(status))
        if response is None:
            return None
        return response.get("content", {}).get("application/json", {}).get("schema")


class Spec:
    def __init__(self, description: dict[str, Any]) -> None:
        self._components = description["components"]
        operations = [
            self._operation(method, template, raw)
            for template, methods in description["paths"].items()
            for method, raw in methods.items()
        ]
        # The most literal template first: /commits/{ref}/status before /commits/{ref}.
        self.operations = sorted(operations, key=lambda op: -len(re.sub(r"\{[^}]+\}", "", op.template)))

    def _operation(self, method: str, template: str, raw: dict[str, Any]) -> Operation:
        parameters = tuple(self.resolve(p) for p in raw.get("parameters", []))
        body = self.resolve(raw["requestBody"]) if "requestBody" in raw else None
        responses = {status: self.resolve(r) for status, r in raw["responses"].items()}
        return Operation(
            raw["operationId"], method.upper(), template, _pattern(template), parameters, body, responses
        )

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            _, _, kind, name = node["$ref"].split("/", 3)
            node = self._components[kind][name]
        return node

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        for operation in self.operations:
            found = operation.pattern.fullmatch(path)
            if found and operation.method == method:
                return operation, {name: unquote(value) for name, value in found.groupdict().items()}
        return None

    def path_exists(self, path: str) -> bool:
        return any(op.pattern.fullmatch(path) for op in self.operations)

    # Requests
    def request_problems(
        self, operation: Operation, path_args: dict[str, str], query: dict[str, list[str]], body: Any
    ) -> list[str]:
        problems = []
        declared = {p["name"]: p for p in operation.parameters}
        for parameter in operation.parameters:
            name, where = parameter["name"], parameter["in"]
            given = (
                path_args.get(name) if where == "path" else _single(query, name) if where == "query" else None
            )
            if where not in ("path", "query"):
                continue
            if given is None:
                if parameter.get("required"):
                    problems.append(f"missing required {where} parameter {name!r}")
                continue
            value = _from_text(given, self.resolve(parameter.get("schema", {})))
            problems += self.problems(parameter.get("schema", {}), value, f"{where} parameter {name!r}")
        problems += [f"unknown query parameter {name!r}" for name in query if name not in declared]
        problems += [
            f"query parameter {name!r} given {len(values)} times"
            for name, values in query.items()
            if len(values) > 1
        ]
        return problems + self._body_problems(operation, body)

    def _body_problems(self, operation: Operation, body: Any) -> list[str]:
        if operation.body is None:
            return [] if body is None else ["a body on an operation that takes none"]
        if body is None:
            return ["missing the required JSON body"] if operation.body.get("required") else []
        schema = operation.body["content"]["application/json"]["schema"]
        return self.problems(schema, body, "body")

    # The schema checker
    def problems(self, schema: dict[str, Any], value: Any, where: str = "body") -> list[str]:
        schema = self.resolve(schema)
        if value is None:
            allowed = schema.get("nullable") or None in schema.get("enum", []) or _untyped(schema)
            return [] if allowed else [f"{where}: null is not allowed"]
        if "allOf" in schema:
            return [p for part in schema["allOf"] for p in self.problems(part, value, where)]
        for keyword in ("anyOf", "oneOf"):  # GitHub's oneOf branches overlap, so both mean "at least one"
            if keyword in schema:
                if not any(not self.problems(branch, value, where) for branch in schema[keyword]):
                    return [f"{where}: matches none of the {keyword} schemas"]
        kind = schema.get("type")
        if kind is not None and not _has_type(value, kind):
            return [f"{where}: expected {kind}, got {type(value).__name__} {_brief(value)}"]
        if "enum" in schema and value not in schema["enum"]:
            return [f"{where}: {_brief(value)} is not one of {schema['enum']}"]
        if isinstance(value, list) and "items" in schema:
            return [
                p
                for i, item in enumerate(value)
                for p in self.problems(schema["items"], item, f"{where}[{i}]")
            ]
        if isinstance(value, dict):
            return self._object_problems(schema, value, where)
        return []

    def _object_problems(self, schema: dict[str, Any], value: dict[str, Any], where: str) -> list[str]:
        properties = schema.get("properties", {})
        problems = [
            f"{where}: missing required property {name!r}"
            for name in schema.get("required", [])
            if name not in value
        ]
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            if name in properties:
                problems += self.problems(properties[name], item, f"{where}.{name}")
            elif extra is False:
                problems.append(f"{where}: unknown property {name!r}")
            elif isinstance(extra, dict):
                problems += self.problems(extra, item, f"{where}.{name}")
        return problems

    # Answers
    def complete(self, schema: dict[str, Any], value: Any) -> Any:
        """`value` with every required property the schema names and `value` lacks filled in.

        The stand-in builds its answers from real data and lets this fill in what it has no data for (a
        repository's `has_wiki`, a user's `gravatar_id`), so that every answer carries what the schema
        requires.
        """
        schema = self.resolve(schema)
        if value is None:
            return None
        if "allOf" in schema:
            for part in schema["allOf"]:
                value = self.complete(part, value)
            return value
        for keyword in ("anyOf", "oneOf"):
            if keyword in schema:
                candidates = [self.complete(branch, value) for branch in schema[keyword]]
                return next(
                    (c for c, b in zip(candidates, schema[keyword]) if not self.problems(b, c)), candidates[0]
                )
        if isinstance(value, list) and "items" in schema:
            return [self.complete(schema["items"], item) for item in value]
        if isinstance(value, dict):
            properties = schema.get("properties", {})
            filled = {name: self.complete(properties.get(name, {}), item) for name, item in value.items()}
            for name in schema.get("required", []):
                if name not in filled:
                    filled[name] = self.placeholder(properties.get(name, {}))
            return filled
        return value

    def placeholder(self, schema: dict[str, Any]) -> Any:
        """The plainest value the schema accepts: null where allowed, else a minimal one of its type."""
        schema = self.resolve(schema)
        if schema.get("nullable"):
            return None
        if "allOf" in schema:
            return self.complete(schema, {})
        if "anyOf" in schema or "oneOf" in schema:
            return self.placeholder((schema.get("anyOf") or schema["oneOf"])[0])
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type")
        if kind == "object" or (kind is None and "properties" in schema):
            return self.complete(schema, {})
        if kind == "string":
            return {"date-time": FIXED_TIME, "uri": "https://github.com/", "email": "nobody@example.com"}.get(
                schema.get("format", ""), ""
            )
        return {"integer": 0, "number": 0, "boolean": False, "array": []}.get(kind)


@cache
def load(path: Path = SPEC_PATH) -> Spec:
    if not path.is_file():
        raise FileNotFoundError(
            f"GitHub's REST operations are not at {path}: the stand-in GitHub validates every request "
            f"against them. They ship in bot/standins/specs/github/ (package data); restore them from git, "
            f"or re-run extract.py there."
        )
    return Spec(json.loads(path.read_text(encoding="utf-8")))


def _pattern(template: str) -> re.Pattern[str]:
    def parameter(found: re.Match[str]) -> str:
        name = found.group(1)
        return f"(?P<{name}>{'.+' if name in GREEDY_PARAMETERS else '[^/]+'})"

    return re.compile(
        re.sub(r"\{([^}]+)\}", parameter, re.escape(template).replace(r"\{", "{").replace(r"\}", "}"))
    )


def _single(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _from_text(text: str, schema: dict[str, Any]) -> Any:
    """A query or path value as the schema's type, or the text itself when it does not read as one."""
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"-?\d+", text):
        return int(text)
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    return text


def _has_type(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    return isinstance(value, PYTHON_TYPES.get(kind, (object,)))


def _untyped(schema: dict[str, Any]) -> bool:
    return not any(key in schema for key in ("type", "properties", "allOf", "anyOf", "oneOf", "enum"))


def _brief(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
