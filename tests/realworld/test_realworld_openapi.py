"""The RealWorld face's OpenAPI document is equivalent to the RealWorld spec: the same paths,
operation ids, parameters, request bodies, statuses and schemas (compared after resolving
references, ignoring titles, descriptions and examples, and the constraints the face adds).
/openapi.json stays the native one."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from tests.helpers.realworld import spec

# Statuses the face documents beyond the spec, the refusals an operation answers for what it is
# (API.md, "Limits and faults"): 503 on every one (each reads the database), 413 where a body is
# read, 429 where attempts are rate-limited (sign-in, registration, a credentials change); and
# 403 where the caller's role may refuse it (creating an article publishes it: API.md "Roles").
RATE_LIMITED = {("post", "/users/login"), ("post", "/users"), ("put", "/user")}
ROLE_REFUSED = {("post", "/articles")}


def refusals(method: str, path: str, operation: dict[str, Any]) -> set[str]:
    statuses = {"503"}
    if "requestBody" in operation:
        statuses.add("413")
    if (method, path) in RATE_LIMITED:
        statuses.add("429")
    if (method, path) in ROLE_REFUSED:
        statuses.add("403")
    return statuses


# Keys that do not change what a document allows.
COSMETIC = {"title", "description", "examples", "example", "summary", "default"}
# Constraints the face adds to what the spec allows, which say what its server refuses (a limit
# of at most 100, a username's characters, a title that is not blank: tests/
# test_realworld_schema_truth.py). They are only ever added: what the face's document allows,
# the spec allows, with the same shapes.
ADDED_CONSTRAINTS = {
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "maxItems",
}


def resolve(node: Any, document: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """`node` with every local `$ref` replaced by what it points at."""
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            assert ref not in seen, f"recursive {ref}"
            target: Any = document
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return resolve(target, document, (*seen, ref))
        return {key: resolve(value, document, seen) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(item, document, seen) for item in node]
    return node


def normalize(schema: Any) -> Any:
    """A schema as a comparable value: no cosmetic keys, `anyOf [X, null]` as `type: [X,
    "null"]`, `required` as a set."""
    if isinstance(schema, list):
        return [normalize(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: normalize(value) for key, value in schema.items() if key not in COSMETIC}
    any_of = out.get("anyOf")
    if isinstance(any_of, list) and {"type": "null"} in any_of and len(any_of) == 2:
        (other,) = [item for item in any_of if item != {"type": "null"}]
        del out["anyOf"]
        out = {**other, **out, "type": [other["type"], "null"]}
    if "required" in out:
        out["required"] = sorted(out["required"])
    if out.get("type") == "object" and "properties" not in out and "additionalProperties" in out:
        out.setdefault("properties", {})
    if out.get("type") == "object" and "properties" in out and not out["properties"]:
        out.pop("properties")
    return out


def without_added_constraints(ours: Any, theirs: Any) -> Any:
    """`ours` less the constraint keywords it has where `theirs` has none."""
    if isinstance(ours, dict):
        base = theirs if isinstance(theirs, dict) else {}
        return {
            key: without_added_constraints(value, base.get(key))
            for key, value in ours.items()
            if key in base or key not in ADDED_CONSTRAINTS
        }
    sequences = (list, tuple)
    if isinstance(ours, sequences) and isinstance(theirs, sequences) and len(ours) == len(theirs):
        return type(ours)(
            without_added_constraints(a, b) for a, b in zip(ours, theirs, strict=True)
        )
    return ours


def body_schema(operation: dict[str, Any], document: dict[str, Any]) -> Any:
    request = resolve(operation.get("requestBody"), document)
    if request is None:
        return None
    return normalize(request["content"]["application/json"]["schema"]), request.get("required")


def response_schemas(operation: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for status, response in resolve(operation["responses"], document).items():
        content = response.get("content") or {}
        schema = content.get("application/json", {}).get("schema")
        out[status] = normalize(schema) if schema is not None else None
    return out


def parameters(operation: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for param in resolve(operation.get("parameters", []), document):
        schema = {
            key: value
            for key, value in normalize(param["schema"]).items()
            if key not in ADDED_CONSTRAINTS
        }
        out[param["name"]] = (param["in"], param.get("required", False), schema)
    return out


@pytest.fixture
async def served(client: AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


async def test_same_paths_methods_and_operation_ids(served: dict[str, Any]) -> None:
    ours = {key: op["operationId"] for key, op in operations(served).items()}
    theirs = {key: op["operationId"] for key, op in operations(spec()).items()}
    assert ours == theirs
    assert served["servers"] == [{"url": "/api"}]
    assert served["openapi"].startswith("3.1")


def _spec_operations() -> list[tuple[str, str]]:
    return sorted(operations(spec()))


@pytest.mark.parametrize(("method", "path"), _spec_operations())
async def test_each_operation_matches_the_spec(
    served: dict[str, Any], method: str, path: str
) -> None:
    ours, theirs = operations(served)[method, path], operations(spec())[method, path]
    assert parameters(ours, served) == parameters(theirs, spec())
    their_body = body_schema(theirs, spec())
    assert without_added_constraints(body_schema(ours, served), their_body) == their_body
    our_responses = response_schemas(ours, served)
    their_responses = response_schemas(theirs, spec())
    extra = refusals(method, path, theirs)
    assert set(our_responses) == set(their_responses) | extra
    error_model = {"$ref": "#/components/schemas/GenericErrorModel"}
    for status in extra:
        content = ours["responses"][status]["content"]
        assert content == {"application/json": {"schema": error_model}}, status
    for status, schema in their_responses.items():
        assert our_responses[status] == schema, f"{method} {path} {status}"
    assert bool(ours.get("security")) == bool(theirs.get("security"))
    if theirs.get("security"):
        assert ours["security"] == theirs["security"]


@pytest.mark.parametrize("name", sorted(spec()["components"]["schemas"]))
async def test_each_component_schema_matches_the_spec(served: dict[str, Any], name: str) -> None:
    ours = normalize(resolve(served["components"]["schemas"][name], served))
    theirs = normalize(resolve(spec()["components"]["schemas"][name], spec()))
    assert without_added_constraints(ours, theirs) == theirs


async def test_token_security_scheme(served: dict[str, Any]) -> None:
    scheme = served["components"]["securitySchemes"]["Token"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")


async def test_native_document_stays_native_and_docs_are_served(client: AsyncClient) -> None:
    native = (await client.get("/openapi.json")).json()
    assert all(path.startswith(("/api/v1", "/health")) for path in native["paths"])
    docs = await client.get("/api/docs")
    assert docs.status_code == 200
    assert "/api/openapi.json" in docs.text
