"""Opaque keyset cursors: base64 of the last row's sort key, so pages are stable under inserts."""

from __future__ import annotations

import base64
import json
from typing import Any

from api.problems import ApiProblem


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise ApiProblem(400, "invalid_cursor", "the cursor is not one this API returned") from None
    if not isinstance(values, list):
        raise ApiProblem(400, "invalid_cursor", "the cursor is not one this API returned")
    return values
