"""orjson as a Faust codec: faster than stdlib json on every record and changelog write."""

from __future__ import annotations

from typing import Any

import orjson
from faust.serializers import codecs

CODEC_NAME = "orjson"


class OrjsonCodec(codecs.Codec):
    def _dumps(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def _loads(self, s: bytes) -> Any:
        return orjson.loads(s)


def register() -> None:
    """Make ``"orjson"`` usable as ``key_serializer`` / ``value_serializer`` (idempotent)."""
    codecs.register(CODEC_NAME, OrjsonCodec())
