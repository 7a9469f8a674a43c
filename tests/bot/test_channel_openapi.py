"""bot/channels/openapi.yaml describes exactly the routes the web widget and REST channels declare: a route
added to either channel without its description (or a description left behind by a removed route) fails
here. The routes are read from the channels' source (their `@blueprint.route(...)` decorators), so this runs
without Rasa; tests/e2e/test_channel_openapi.py holds the answers of the real servers to the description."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import schemathesis
import yaml
from schemathesis.core.result import Ok

CHANNELS = Path(__file__).resolve().parents[2] / "bot" / "channels"
SPEC = yaml.safe_load((CHANNELS / "openapi.yaml").read_text(encoding="utf-8"))
PREFIXES = {"webchat.py": "/webhooks/webchat", "rest.py": "/webhooks/rest"}
METHODS = {"get", "post", "put", "patch", "delete"}


def declared_routes(source: Path, prefix: str) -> set[tuple[str, str]]:
    """(METHOD, path) of every `@<blueprint>.route("<uri>", methods=[...])` in a channel's source."""
    found = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if not (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr == "route"
            ):
                continue
            uri = ast.literal_eval(decorator.args[0])
            methods = next(ast.literal_eval(k.value) for k in decorator.keywords if k.arg == "methods")
            found |= {(method.upper(), prefix + uri) for method in methods}
    return found


def described_routes() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in SPEC["paths"].items()
        for method in operations
        if method in METHODS
    }


def test_every_declared_channel_route_is_described_and_nothing_else():
    declared = set().union(*(declared_routes(CHANNELS / name, prefix) for name, prefix in PREFIXES.items()))
    assert len(declared) >= 10, declared  # the parser found the routes
    assert declared == described_routes()


@pytest.mark.parametrize("name", sorted(PREFIXES))
def test_the_route_reader_sees_a_route_that_is_not_described(tmp_path, name):
    """The check above can fail: a channel with one more route is not described."""
    source = (CHANNELS / name).read_text(encoding="utf-8")
    extra = tmp_path / name
    extra.write_text(
        source
        + '\n\ndef _extra(hook):\n    @hook.route("/undocumented", methods=["POST"])\n    async def f(r):\n        pass\n',
        encoding="utf-8",
    )
    assert ("POST", PREFIXES[name] + "/undocumented") in declared_routes(extra, PREFIXES[name])
    assert ("POST", PREFIXES[name] + "/undocumented") not in described_routes()


def test_the_description_loads_and_every_operation_answers_refusals_in_json():
    schema = schemathesis.openapi.from_dict(SPEC)
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results  # every operation is a valid one
    assert len(results) == len(described_routes())
    for path, items in SPEC["paths"].items():
        for method, operation in items.items():
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert "$ref" in answer or "application/json" in answer.get("content", {}), (method, path, status)


def test_every_operation_that_takes_a_body_documents_the_limits():
    """Bodies are size-limited before they are read (413) and parsed strictly (400)."""
    for path, items in SPEC["paths"].items():
        for method, operation in items.items():
            if "requestBody" in operation:
                assert {"400", "413", "429"} <= set(operation["responses"]), (method, path)
