"""Signed links to an incident's pages: `?t=<token>` that opens one incident for a limited time.

The token is `i<incident id>.<expiry, unix seconds>.<HMAC-SHA256 of both, base64url>`, so it is scoped to
one incident (its summary, report, runbook and chart) and expires on its own; nothing is stored. The
key is NOROSHI_SECRET_KEY. Links in Slack and e-mail carry the token; the pages check it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.orm import Session

from storage.incidents import Incident

DEFAULT_LIFETIME = timedelta(days=14)
_TOKEN_RE = re.compile(r"^i(\d{1,17})\.(\d{1,12})\.([A-Za-z0-9_-]{16,64})$")
_SIGNATURE_CHARS = 32  # 192 bits of the HMAC


@dataclass(frozen=True, slots=True)
class PageToken:
    incident_id: int
    expires_at: int  # unix seconds


def _signature(key: str, incident_id: int, expires_at: int) -> str:
    message = f"noroshi-page|incident:{incident_id}|{expires_at}".encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:_SIGNATURE_CHARS]


def sign_incident(key: str, incident_id: int, now: datetime, lifetime: timedelta = DEFAULT_LIFETIME) -> str:
    expires_at = int((now + lifetime).timestamp())
    return f"i{incident_id}.{expires_at}.{_signature(key, incident_id, expires_at)}"


def verify(key: str, token: str, now: datetime) -> PageToken | None:
    """The token's scope when it is well-formed, signed with `key` and not expired; else None."""
    match = _TOKEN_RE.match(token)
    if match is None:
        return None
    incident_id, expires_at = int(match[1]), int(match[2])
    if not hmac.compare_digest(match[3], _signature(key, incident_id, expires_at)):
        return None
    if expires_at <= now.timestamp():
        return None
    return PageToken(incident_id, expires_at)


def with_token(url: str, token: str) -> str:
    """`url` with `t=<token>` added to its query (the token needs no escaping: [A-Za-z0-9._-])."""
    parts = urlsplit(url)
    query = f"{parts.query}&t={token}" if parts.query else f"t={token}"
    return urlunsplit(parts._replace(query=query))


ContextBuilder = Callable[[Session, Incident, str, datetime], dict[str, Any]]


def signing_context_builder(
    build: ContextBuilder, key: str, lifetime: timedelta = DEFAULT_LIFETIME
) -> ContextBuilder:
    """Wraps `build_incident_context` so every page link it returns carries a token for its incident."""

    def signed(session: Session, incident: Incident, public_url: str, now: datetime) -> dict[str, Any]:
        context = build(session, incident, public_url, now)
        token = sign_incident(key, incident.id, now, lifetime)
        context["incident"]["url"] = with_token(context["incident"]["url"], token)
        context["runbook"]["url"] = with_token(context["runbook"]["url"], token)
        context["chart_url"] = with_token(context["chart_url"], token)
        context["report_url"] = with_token(context.get("report_url") or _report_url(context), token)
        return context

    return signed


def _report_url(context: dict[str, Any]) -> str:
    base = context["incident"]["url"].split("?", 1)[0]
    return f"{base}/report"
