"""Record contracts: the JSON Schemas in ``schemas/``, compiled once, checked at ingress.

The schemas ship inside the package (``workers/schemas``, a copy kept equal to the top-level
``schemas/`` folder by a test) so an installed worker validates without the source tree.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from importlib import resources
from typing import Any

import fastjsonschema
import orjson

SCHEMA_NAMES = ("raw-article", "cleaned-article", "enriched-article", "deadletter", "mention-delta")


class RecordError(Exception):
    """A record that cannot be processed; ``error_class`` is short and machine-readable."""

    def __init__(self, error_class: str, reason: str) -> None:
        super().__init__(reason)
        self.error_class = error_class
        self.reason = reason


def load_schema(name: str) -> dict[str, Any]:
    text = resources.files("workers").joinpath("schemas", f"{name}.schema.json").read_bytes()
    schema: dict[str, Any] = orjson.loads(text)
    return schema


def _resolve_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Inline cross-file ``$ref``s (``x.schema.json#/...``) so validation needs no network."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ".schema.json" in ref:
                file, _, pointer = ref.partition("#")
                target: Any = load_schema(file.removesuffix(".schema.json"))
                for part in pointer.strip("/").split("/"):
                    if part:
                        target = target[part]
                return walk(target)
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    resolved: dict[str, Any] = walk(schema)
    return resolved


@functools.cache
def validator(name: str) -> Callable[[Any], Any]:
    """A compiled validator for one schema (compiled once per process)."""
    return fastjsonschema.compile(_resolve_refs(load_schema(name)))


def validate(name: str, record: Any) -> None:
    """Raise RecordError(invalid_record) when ``record`` breaks schema ``name``."""
    try:
        validator(name)(record)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise RecordError("invalid_record", f"{name}: {exc.message}") from None


def default_article_id(url: str) -> str:
    """A stable id from the URL: re-crawls of one URL share it."""
    return hashlib.sha1(url.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def content_hash(body: str) -> str:
    return hashlib.sha1(body.encode("utf-8", "surrogatepass")).hexdigest()


def decode_raw(value: bytes | None, max_bytes: int) -> dict[str, Any]:
    """Bytes from a raw topic -> a validated raw-article dict with defaults filled in."""
    if value is None:
        raise RecordError("tombstone", "record has a key but no value (tombstone)")
    if len(value) > max_bytes:
        reason = f"record is {len(value)} bytes, over the {max_bytes}-byte limit"
        raise RecordError("too_large", reason)
    try:
        record = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise RecordError("invalid_json", f"value is not JSON: {exc}") from None
    if not isinstance(record, dict):
        raise RecordError("not_an_object", f"value is JSON {type(record).__name__}, not an object")
    validate("raw-article", record)
    if not record["body"].strip():
        raise RecordError("empty_body", "body is empty or whitespace only")
    if not record.get("id"):
        record["id"] = default_article_id(record["url"])
    return record
