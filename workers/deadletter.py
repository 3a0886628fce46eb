"""Dead letters: a record a stage cannot process goes to the dead-letter topic, with why.

The original bytes travel with it (UTF-8 text when they decode, base64 otherwise) so an operator
can fix and re-produce it; nothing is dropped silently.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

from workers import PIPELINE_VERSION
from workers.contracts import RecordError

log = logging.getLogger(__name__)

# Keep dead letters under the broker's default message size limit (~1 MB) even as base64.
MAX_ORIGINAL_BYTES = 512 * 1024


def encode_original(value: bytes | str | None) -> tuple[str | None, str, bool]:
    """(original, encoding, truncated) for the dead-letter record."""
    if value is None:
        return None, "none", False
    raw = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(value)
    truncated = len(raw) > MAX_ORIGINAL_BYTES
    raw = raw[:MAX_ORIGINAL_BYTES]
    try:
        return raw.decode("utf-8"), "utf-8", truncated
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64", truncated


def classify(exc: BaseException) -> tuple[str, str]:
    """(error_class, reason) for any exception a stage raised."""
    if isinstance(exc, RecordError):
        return exc.error_class, exc.reason
    if isinstance(exc, TimeoutError):
        return "timeout", f"stage took too long: {exc}"
    return "stage_error", f"{type(exc).__name__}: {exc}"[:2000]


def dead_letter(
    stage: str,
    exc: BaseException,
    *,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | str | None,
    value: bytes | str | None,
) -> dict[str, Any]:
    """The dead-letter record (schema: schemas/deadletter.schema.json)."""
    error_class, reason = classify(exc)
    original, encoding, truncated = encode_original(value)
    if isinstance(key, bytes):
        key = key.decode("utf-8", "replace")
    return {
        "stage": stage,
        "reason": reason,
        "error_class": error_class,
        "exception": type(exc).__name__,
        "source": {"topic": topic, "partition": partition, "offset": offset, "key": key},
        "original": original,
        "original_encoding": encoding,
        "original_truncated": truncated,
        "time": time.time(),
        "pipeline_version": PIPELINE_VERSION,
    }
