"""The API's schema tells the truth (issue #14, item 5): every operation documents its error statuses
in the one error shape, every integer parameter is bounded, and a 405 names every method of its path."""

from __future__ import annotations

from typing import Any

METHODS = {"get", "post", "put", "patch", "delete"}


def _integer_schemas(schema: dict[str, Any]) -> list[dict[str, Any]]:
    options = schema.get("anyOf", [schema])
    return [o for o in options if o.get("type") == "integer"]


def test_every_operation_documents_its_errors_in_the_error_shape(app) -> None:  # type: ignore[no-untyped-def]
    spec = app.openapi()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "422" in responses, (method, path)
            for code, response in responses.items():
                if code.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, code)
            if "{" in path:
                assert "404" in responses, (method, path)


def test_every_integer_parameter_is_bounded(app) -> None:  # type: ignore[no-untyped-def]
    loose = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                for schema in _integer_schemas(parameter.get("schema", {})):
                    if schema.get("maximum", schema.get("exclusiveMaximum")) is None:
                        loose.append(f"{method.upper()} {path} {parameter['name']}")
    assert loose == []


def test_a_405_names_every_method_of_the_path(client, app) -> None:  # type: ignore[no-untyped-def]
    wrong, checked = [], 0
    for path, operations in app.openapi()["paths"].items():
        documented = {m.upper() for m in operations if m in METHODS}
        missing = sorted({m.upper() for m in METHODS} - {m.lower() for m in documented} - {"PATCH"})
        if not missing:
            continue
        concrete = path.replace("{", "").replace("}", "")  # any segment text stands in for an id
        concrete = "/".join("1" if part.endswith("_id") else part for part in concrete.split("/"))
        response = client.request(missing[0], concrete)
        if response.status_code != 405:
            continue  # another route's pattern took the path (e.g. a literal segment): not this path's 405
        checked += 1
        allow = {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}
        if allow != documented:
            wrong.append(f"{missing[0]} {path}: Allow {sorted(allow)}, documented {sorted(documented)}")
        assert response.json()["error"]["code"] == "method_not_allowed"
    assert wrong == []
    assert checked >= 100  # most paths: the test is not vacuous
