"""POST /slack/interactions: the Acknowledge / Resolve / Snooze buttons on the Slack incident card.

Slack signs every request: HMAC-SHA256 of ``v0:<timestamp>:<raw body>`` with the app's signing secret.
We verify it on the raw bytes, before parsing, with slack-sdk's SignatureVerifier (5-minute window
against the injected clock): a bad, stale or tampered signature is 401. The action is applied through
`alerting.actions.IncidentActions` in one short transaction: the core writes the timeline event and the
outbox rows in that same transaction, so the card update in Slack follows from the delivery loop, not
from this request. That keeps the answer well inside Slack's 3 seconds: 200 with an empty body. Only
a message for the clicking user (unknown incident, action no longer possible) is posted to the
``response_url`` after the response has gone out, as an ephemeral message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, BackgroundTasks, Request, Response
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.webhook import WebhookClient
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from alerting.actions import ActionInputError, IncidentActions, IncidentNotFound
from alerting.channels.slack_blocks import ACTION_ACKNOWLEDGE, ACTION_RESOLVE, ACTION_SNOOZE
from alerting.lifecycle import TransitionError
from api.context import ApiContext, get_context
from api.problems import ApiProblem
from storage.engine import transaction

log = logging.getLogger(__name__)
router = APIRouter(tags=["slack"])

MAX_BODY_BYTES = 64 * 1024  # interaction payloads are a few kB; refuse to buffer more before verifying
MAX_SNOOZE_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class Interaction:
    action_id: str
    incident_id: int
    snooze_minutes: int | None
    actor: str
    response_url: str | None


class _InjectedClock(Clock):
    """SignatureVerifier's clock from the app's injected clock, so the 5-minute window is testable."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock().timestamp()


def verify_signature(body: bytes, request: Request, context: ApiContext) -> None:
    secret = context.slack_signing_secret
    if not secret:
        raise ApiProblem(
            503, "slack_not_configured", "set NOROSHI_SLACK_SIGNING_SECRET to accept Slack actions"
        )
    verifier = SignatureVerifier(secret, clock=_InjectedClock(context.clock))
    try:
        valid = verifier.is_valid_request(body, dict(request.headers))
    except ValueError:  # a non-numeric X-Slack-Request-Timestamp
        valid = False
    if not valid:
        raise ApiProblem(401, "invalid_signature", "X-Slack-Signature does not match the body, or is stale")


def actor_for(user: dict[str, Any]) -> str:
    """`slack:<user name> (<user id>)`: the name people recognise, the id that stays the same."""
    user_id = str(user.get("id") or "unknown")
    name = user.get("username") or user.get("name") or user_id
    return f"slack:{name} ({user_id})"


def _malformed(detail: str) -> ApiProblem:
    return ApiProblem(400, "invalid_payload", detail)


def _target(action: dict[str, Any]) -> tuple[int, int | None]:
    """The incident id (and the snooze length) from a button value "42" or a select value "42:60"."""
    raw = action.get("value")
    if raw is None:
        raw = (action.get("selected_option") or {}).get("value")
    head, _, minutes = str(raw or "").partition(":")
    try:
        incident_id = int(head)
        snooze = int(minutes) if minutes else None
    except ValueError:
        raise _malformed(f"actions[0].value: {raw!r} is not '<incident id>[:<minutes>]'") from None
    if snooze is not None and not 0 < snooze <= MAX_SNOOZE_MINUTES:
        raise _malformed(f"actions[0].value: snooze of {snooze} minutes is out of range")
    return incident_id, snooze


def parse_interaction(body: bytes) -> Interaction | None:
    """The form body's `payload` → the one action we handle; None for interactions we ignore."""
    try:
        form = parse_qs(body.decode("utf-8"), strict_parsing=True)
        payload = json.loads(form["payload"][0])
    except (UnicodeDecodeError, ValueError, KeyError):
        raise _malformed("payload: expected a form field `payload` holding JSON") from None
    if not isinstance(payload, dict):
        raise _malformed("payload: expected a JSON object")
    if payload.get("type") != "block_actions":
        return None  # shortcuts, view submissions…: nothing of ours
    acts = payload.get("actions")
    user = payload.get("user")
    if not isinstance(acts, list) or not acts or not isinstance(acts[0], dict):
        raise _malformed("actions: expected at least one action")
    if not isinstance(user, dict) or not user.get("id"):
        raise _malformed("user.id: missing")
    action_id = str(acts[0].get("action_id", ""))
    if action_id not in HANDLERS:
        return None  # a button of another app sharing the request URL, or a link button
    incident_id, snooze = _target(acts[0])
    if action_id == ACTION_SNOOZE and snooze is None:
        raise _malformed("actions[0].selected_option.value: snooze needs '<incident id>:<minutes>'")
    response_url = payload.get("response_url")
    return Interaction(
        action_id, incident_id, snooze, actor_for(user), response_url if response_url else None
    )


def _acknowledge(actions: IncidentActions, session: Session, it: Interaction, now: datetime) -> None:
    actions.acknowledge(session, it.incident_id, it.actor, now)


def _resolve(actions: IncidentActions, session: Session, it: Interaction, now: datetime) -> None:
    actions.resolve(session, it.incident_id, it.actor, now)


def _snooze(actions: IncidentActions, session: Session, it: Interaction, now: datetime) -> None:
    until = now + timedelta(minutes=it.snooze_minutes or 60)
    actions.snooze(session, it.incident_id, it.actor, until, now)


HANDLERS: dict[str, Callable[[IncidentActions, Session, Interaction, datetime], None]] = {
    ACTION_ACKNOWLEDGE: _acknowledge,
    ACTION_RESOLVE: _resolve,
    ACTION_SNOOZE: _snooze,
}


def apply(context: ApiContext, actions: IncidentActions, it: Interaction) -> str | None:
    """Apply the action in one transaction (rolled back on any error); a message for the user if refused."""
    try:
        with transaction(context.factory) as session:
            HANDLERS[it.action_id](actions, session, it, context.clock())
    except IncidentNotFound:
        n = it.incident_id
        return f"インシデント #{n} が見つかりません。Incident #{n} was not found."
    except (TransitionError, ActionInputError) as exc:
        return f"この操作はできません。That is not possible now: {exc}"
    return None


def tell_user(response_url: str, text: str) -> None:
    """An ephemeral message to the person who clicked (after the HTTP answer, so never in the 3 s path)."""
    try:
        WebhookClient(response_url, timeout=5, retry_handlers=[]).send(
            text=text, response_type="ephemeral", replace_original=False
        )
    except Exception as exc:  # best effort: the action itself was already handled and answered
        log.warning("slack response_url message failed: %s", type(exc).__name__)


@router.post("/slack/interactions", status_code=200, include_in_schema=True)
async def slack_interactions(request: Request, background: BackgroundTasks) -> Response:
    """Slack's interactivity request URL (block_actions from the incident card)."""
    context = get_context(request)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiProblem(413, "payload_too_large", f"body over {MAX_BODY_BYTES} bytes")
    verify_signature(body, request, context)
    interaction = parse_interaction(body)
    if interaction is None:
        return Response(status_code=200)
    if context.actions is None:
        raise ApiProblem(503, "actions_unavailable", "incident actions are not wired in this process")
    message = await run_in_threadpool(apply, context, context.actions, interaction)
    if message and interaction.response_url:
        background.add_task(tell_user, interaction.response_url, message)
    return Response(status_code=200)
