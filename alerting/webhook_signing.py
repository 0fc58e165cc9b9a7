"""Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over id.timestamp.body.

Headers: `webhook-id` (the same on every retry of one event, so receivers can dedupe),
`webhook-timestamp` (Unix seconds of this attempt), `webhook-signature` ("v1,<base64>"; several,
space-separated, while a secret is being rotated: the receiver accepts if any one matches).

Secrets look like `whsec_<base64 of 32 random bytes>`; the key is the decoded bytes. A secret without
the prefix is used as its UTF-8 bytes (for receivers that configured a plain shared string).
Standard library only, so the receiver recipe in docs/webhooks.md is this same code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as _secrets
from collections.abc import Iterable, Mapping
from datetime import datetime

PREFIX = "whsec_"
DEFAULT_TOLERANCE = 300  # seconds either side of now


class WebhookVerificationError(ValueError):
    """The request is not a valid, fresh, signed webhook (the message says which check failed)."""


def generate_secret() -> str:
    return PREFIX + base64.b64encode(_secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    if secret.startswith(PREFIX):
        return base64.b64decode(secret[len(PREFIX) :])
    return secret.encode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One signature, "v1,<base64 HMAC-SHA256 of '{id}.{timestamp}.{body}'>"."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)


def signed_headers(secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
    }


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, now: datetime, tolerance: int = DEFAULT_TOLERANCE
) -> str:
    """Check a received webhook; return its id (for de-duplication) or raise WebhookVerificationError.

    `headers` may be any mapping; names are matched case-insensitively. Verify the raw body bytes,
    before any JSON parsing.
    """
    lower = {name.lower(): value for name, value in headers.items()}
    msg_id, stamp, signatures = (
        lower.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature")
    )
    if not msg_id or not stamp or not signatures:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not an integer") from None
    if abs(now.timestamp() - timestamp) > tolerance:
        raise WebhookVerificationError(f"webhook-timestamp is more than {tolerance} s from now")
    expected = sign(secret, msg_id, timestamp, body)
    if not any(hmac.compare_digest(expected, given) for given in signatures.split()):
        raise WebhookVerificationError("no signature matches")
    return msg_id
