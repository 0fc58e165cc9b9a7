"""The Slack channel against a local server that behaves like Slack's Web API (slack-sdk does real HTTP)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from alerting.channels.base import DeliveryResult, OutgoingNotification
from alerting.channels.slack import SlackChannel, SlackWebhookChannel
from alerting.channels.slack_blocks import (
    ACTION_ACKNOWLEDGE,
    ACTION_RESOLVE,
    ACTION_SNOOZE,
    build_card,
    sparkline,
)
from tests.fakes.slack_api import FakeSlack

TOKEN = "xoxb-test-token"
CHANNEL = "C0INCIDENTS"


def incident_context(**incident: Any) -> dict[str, Any]:
    """A context shaped like alerting.summary.build_incident_context's output."""
    base = {
        "id": 42,
        "kind": "negativity",
        "status": "triggered",
        "severity": "flame",
        "severity_label": {"ja": "炎上", "en": "Flame-up"},
        "started_at": "2026-11-21T06:00:00+00:00",
        "last_signal_at": "2026-11-21T06:00:00+00:00",
        "resolved_at": None,
        "score": 9.5,
        "observed": 1240,
        "expected": 205.0,
        "upper": 260.0,
        "ratio": 6.05,
        "negative_share": 0.62,
        "baseline_share": 0.12,
        "url": "http://noroshi.test/incidents/42",
    }
    base.update(incident)
    return {
        "incident": base,
        "brand": {"id": 1, "name": "さくら食品", "timezone": "Asia/Tokyo", "locale": "ja"},
        "headline": {"ja": "異物混入の投稿が急拡散", "en": "Posts about a foreign object are spreading"},
        "series": [
            {"start": f"2026-11-21T05:{m:02d}:00+00:00", "total": t, "negative": n}
            for m, t, n in ((0, 200, 20), (5, 210, 25), (10, 400, 150), (15, 800, 470), (20, 1240, 770))
        ],
        "drivers": [
            {"term": "異物", "score": 5.1},
            {"term": "返金", "score": 3.2},
            {"term": "<script>", "score": 1.0},
        ],
        "top_posts": [
            {
                "text": "さくら食品のパンに異物が… <b>最悪</b>",
                "author": "taro",
                "followers": 120_000,
                "reposts": 5400,
                "url": "https://x.example/taro/1",
                "negativity": 0.9,
                "posted_at": "2026-11-21T05:50:00+00:00",
            },
        ],
        "runbook": {
            "title": "炎上対応 初動",
            "first_steps": ["事実確認をする", "関係者を招集する", "投稿を削除しない"],
            "url": "http://noroshi.test/incidents/42/runbook",
            "locale": "ja",
        },
        "timeline": [
            {"at": "2026-11-21T06:00:00+00:00", "event": "opened", "actor": "noroshi", "note": None}
        ],
        "chart_url": "http://noroshi.test/incidents/42/chart.png",
        "actor": None,
    }


def after(context: dict[str, Any], event: str, actor: str, status: str, **incident: Any) -> dict[str, Any]:
    later = copy.deepcopy(context)
    later["incident"].update(status=status, **incident)
    later["timeline"].append(
        {"at": "2026-11-21T06:07:00+00:00", "event": event, "actor": actor, "note": None}
    )
    later["actor"] = actor
    return later


def notification(
    event: str,
    context: dict[str, Any],
    state: dict[str, Any] | None = None,
    target: str = CHANNEL,
    attempt: int = 1,
) -> OutgoingNotification:
    return OutgoingNotification(
        notification_id=1,
        incident_id=42,
        channel="slack",
        target=target,
        event=event,
        idempotency_key=f"42:slack:{target}:{event}",
        attempt=attempt,
        context=context,
        state=state or {},
    )


def card_text(body: dict[str, Any]) -> str:
    """Everything a person can read on the card, as one string."""
    return json.dumps(body.get("attachments"), ensure_ascii=False) + str(body.get("text"))


def actions(body: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = body["attachments"][0]["blocks"]
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, channels=(CHANNEL,)) as fake:
        yield fake


@pytest.fixture
def channel(slack: FakeSlack) -> SlackChannel:
    return SlackChannel(TOKEN, base_url=slack.api_url, timeout=5)


# --- the card ---------------------------------------------------------------------------------------


def test_sparkline_scales_to_the_maximum() -> None:
    assert sparkline([0, 1, 2, 4, 8]) == "▁▂▃▅█"
    assert sparkline([0, 0, 0]) == "▁▁▁"
    assert sparkline([]) == ""


def test_card_shows_severity_numbers_drivers_posts_runbook_and_buttons() -> None:
    card = build_card(incident_context())
    text = card_text(card)
    assert card["attachments"][0]["color"] == "#D62D20"  # flame red
    assert "炎上 Flame-up · さくら食品" in text
    assert "1,240 vs 通常 usual 205.0 (×6.0)" in text
    assert "62% vs 通常 usual 12%" in text
    assert "異物混入の投稿が急拡散" in text
    assert "2026-11-21 15:00 JST" in text  # started_at in the brand's zone
    assert "`▂▂▃▆█`" in text  # totals 200…1240 scaled to 8 levels
    assert "異物 · 返金 · &lt;script&gt;" in text  # drivers, user text escaped
    assert "<https://x.example/taro/1|さくら食品のパンに異物が… &lt;b&gt;最悪&lt;/b&gt;>" in text
    assert "followers 120,000 · reposts 5,400" in text
    assert "1. 事実確認をする" in text and "3. 投稿を削除しない" in text
    assert "<http://noroshi.test/incidents/42/runbook|手順書 Full runbook>" in text
    assert "<http://noroshi.test/incidents/42|インシデント Incident page>" in text
    images = [b for b in card["attachments"][0]["blocks"] if b["type"] == "image"]
    assert images[0]["image_url"] == "http://noroshi.test/incidents/42/chart.png"

    elements = {e["action_id"]: e for e in actions(card)}
    assert elements[ACTION_ACKNOWLEDGE]["value"] == "42"
    assert elements[ACTION_RESOLVE]["value"] == "42"
    assert [o["value"] for o in elements[ACTION_SNOOZE]["options"]] == ["42:60", "42:240"]


def test_card_follows_the_status() -> None:
    acked = build_card(after(incident_context(), "acknowledge", "slack:hanako (U1)", "acknowledged"))
    assert "対応中 Acknowledged by slack:hanako (U1)" in card_text(acked)
    assert ACTION_ACKNOWLEDGE not in {e["action_id"] for e in actions(acked)}

    resolved = build_card(
        after(
            incident_context(), "resolve", "slack:hanako (U1)", "resolved", resolved_at="2026-11-21T07:30:00Z"
        )
    )
    assert resolved["attachments"][0]["color"] == "#2EB67D"
    assert "解決済み Resolved by slack:hanako (U1) · 2026-11-21 16:30 JST" in card_text(resolved)
    assert actions(resolved) == []


def test_card_survives_a_sparse_context() -> None:
    card = build_card({"incident": {"id": 7, "severity": "attention", "status": "triggered"}})
    assert "注意 Attention" in card_text(card)
    assert {e["action_id"] for e in actions(card)} == {ACTION_ACKNOWLEDGE, ACTION_RESOLVE, ACTION_SNOOZE}


# --- delivery through slack-sdk ----------------------------------------------------------------------


def test_first_notification_posts_the_card_and_remembers_its_ts(
    slack: FakeSlack, channel: SlackChannel
) -> None:
    result = channel.deliver(notification("triggered", incident_context()))

    assert result.ok
    [call] = slack.calls_to("chat.postMessage")
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.body["channel"] == CHANNEL
    assert "炎上 Flame-up · さくら食品" in card_text(call.body)  # Japanese arrived intact (UTF-8 JSON)
    assert call.body["metadata"]["event_payload"]["incident_id"] == 42
    [message] = slack.top_level()
    assert result.state == {"channel": CHANNEL, "ts": message.ts}


def test_later_events_edit_the_same_message_and_reply_in_its_thread(
    slack: FakeSlack, channel: SlackChannel
) -> None:
    opened = incident_context()
    state = channel.deliver(notification("triggered", opened)).state
    acked = after(opened, "acknowledge", "slack:hanako (U123)", "acknowledged")
    second = channel.deliver(notification("acknowledged", acked, state))
    resolved = after(
        acked, "resolve", "slack:hanako (U123)", "resolved", resolved_at="2026-11-21T07:30:00+00:00"
    )
    third = channel.deliver(notification("resolved", resolved, second.state))

    assert second.ok and third.ok and third.state == state
    [card] = slack.top_level()  # one card for the whole incident
    assert card.ts == state["ts"]
    assert len(card.history) == 2  # updated twice in place
    assert "対応中 Acknowledged by slack:hanako (U123)" in card_text(card.history[1])
    assert "解決済み Resolved by slack:hanako (U123)" in card_text(card.body)
    assert actions(card.body) == []
    replies = sorted(slack.thread(card.ts), key=lambda m: m.ts)
    assert [r.body["text"].split("*")[1] for r in replies] == ["対応開始 Acknowledged", "解決 Resolved"]
    assert "by slack:hanako (U123)" in replies[0].body["text"]
    assert replies[0].body.get("reply_broadcast") is False
    assert replies[1].body["reply_broadcast"] is True  # the resolve is announced in the channel too


def test_escalation_updates_the_card_severity(slack: FakeSlack, channel: SlackChannel) -> None:
    opened = incident_context(severity="warning", severity_label={"ja": "警戒", "en": "Warning"})
    state = channel.deliver(notification("triggered", opened)).state
    escalated = after(
        opened,
        "escalated",
        "noroshi",
        "triggered",
        severity="flame",
        severity_label={"ja": "炎上", "en": "Flame-up"},
    )
    assert channel.deliver(notification("escalated", escalated, state)).ok

    [card] = slack.top_level()
    assert (
        "警戒 Warning" in card_text(card.history[0])
        and card.history[0]["attachments"][0]["color"] == "#F2711C"
    )
    assert "炎上 Flame-up" in card_text(card.body) and card.body["attachments"][0]["color"] == "#D62D20"
    [reply] = slack.thread(card.ts)
    assert "深刻度上昇 Escalated" in reply.body["text"] and "→ 炎上 Flame-up" in reply.body["text"]


def test_a_dm_target_is_updated_in_the_dm_channel(slack: FakeSlack, channel: SlackChannel) -> None:
    state = channel.deliver(notification("escalated", incident_context(), target="U0HANAKO")).state
    assert state is not None and state["channel"] == "D0HANAKO"
    acked = after(incident_context(), "acknowledge", "slack:hanako (U0HANAKO)", "acknowledged")
    assert channel.deliver(notification("acknowledged", acked, state, target="U0HANAKO")).ok
    assert slack.calls_to("chat.update")[0].body["channel"] == "D0HANAKO"


def test_a_deleted_card_is_posted_again(slack: FakeSlack, channel: SlackChannel) -> None:
    gone = {"channel": CHANNEL, "ts": "1.000001"}
    result = channel.deliver(notification("acknowledged", incident_context(), gone))
    assert result.ok and result.state is not None and result.state["ts"] != "1.000001"
    assert len(slack.top_level()) == 1


# --- errors → what the outbox should do ---------------------------------------------------------------


def test_429_is_returned_with_retry_after_from_the_header(slack: FakeSlack, channel: SlackChannel) -> None:
    slack.retry_after = 13
    slack.fail_next(1, "429")
    result = channel.deliver(notification("triggered", incident_context()))
    assert result == DeliveryResult(ok=False, retry_after_seconds=13.0, error=result.error)
    assert "ratelimited" in (result.error or "")
    assert len(slack.calls) == 1  # slack-sdk did not retry (or sleep) behind the outbox's back
    assert slack.top_level() == []


def test_ratelimited_without_header_waits_a_second(slack: FakeSlack, channel: SlackChannel) -> None:
    slack.fail_next(1, "ratelimited")
    result = channel.deliver(notification("triggered", incident_context()))
    assert not result.ok and not result.permanent and result.retry_after_seconds == 1.0


@pytest.mark.parametrize("mode", ["invalid_auth", "channel_not_found"])
def test_auth_and_channel_errors_are_permanent(slack: FakeSlack, channel: SlackChannel, mode: str) -> None:
    slack.fail_next(1, mode)
    result = channel.deliver(notification("triggered", incident_context()))
    assert not result.ok and result.permanent and mode in (result.error or "")


def test_a_wrong_token_is_permanent(slack: FakeSlack) -> None:
    wrong = SlackChannel("xoxb-wrong", base_url=slack.api_url)
    result = wrong.deliver(notification("triggered", incident_context()))
    assert result.permanent and "invalid_auth" in (result.error or "")
    assert slack.top_level() == []


def test_an_unknown_channel_is_permanent(slack: FakeSlack, channel: SlackChannel) -> None:
    result = channel.deliver(notification("triggered", incident_context(), target="C0NOPE"))
    assert result.permanent and "channel_not_found" in (result.error or "")


@pytest.mark.parametrize("mode", ["500", "503"])
def test_server_errors_are_retried(slack: FakeSlack, channel: SlackChannel, mode: str) -> None:
    slack.fail_next(1, mode)
    result = channel.deliver(notification("triggered", incident_context()))
    assert not result.ok and not result.permanent and result.retry_after_seconds is None
    assert f"HTTP {mode}" in (result.error or "")
    assert channel.deliver(notification("triggered", incident_context(), attempt=2)).ok


def test_connection_errors_are_retried(slack: FakeSlack) -> None:
    url = slack.api_url
    slack.stop()
    result = SlackChannel(TOKEN, base_url=url, timeout=2).deliver(
        notification("triggered", incident_context())
    )
    assert not result.ok and not result.permanent


def test_a_failed_thread_reply_is_retried_without_duplicating_it(
    slack: FakeSlack, channel: SlackChannel
) -> None:
    state = channel.deliver(notification("triggered", incident_context())).state
    acked = after(incident_context(), "acknowledge", "slack:hanako (U1)", "acknowledged")
    slack.fail_next(1, "429", method="chat.postMessage")  # the update goes through, the reply is limited
    first = channel.deliver(notification("acknowledged", acked, state))
    second = channel.deliver(notification("acknowledged", acked, state, attempt=2))

    assert first.retry_after_seconds == 7.0 and second.ok
    assert len(slack.thread(state["ts"])) == 1  # type: ignore[index]
    assert len(slack.calls_to("chat.update")) == 2  # the idempotent part was repeated, harmlessly


def test_auth_test_checks_the_token(slack: FakeSlack, channel: SlackChannel) -> None:
    assert channel.auth_test()["team"] == "Noroshi"


# --- incoming-webhook mode ---------------------------------------------------------------------------


def test_webhook_mode_posts_a_new_card_per_event(slack: FakeSlack) -> None:
    hook = SlackWebhookChannel(slack.webhook_url())
    opened = incident_context()
    acked = after(opened, "acknowledge", "slack:hanako (U1)", "acknowledged")
    assert hook.deliver(notification("triggered", opened)).ok
    assert hook.deliver(notification("acknowledged", acked)).ok

    first, second = slack.calls_to("webhook")
    assert "炎上 Flame-up · さくら食品" in card_text(first.body)
    assert "対応開始 Acknowledged" in second.body["attachments"][0]["blocks"][0]["text"]["text"]
    assert "対応中 Acknowledged by slack:hanako (U1)" in card_text(second.body)


def test_a_first_message_that_is_not_the_trigger_says_why_on_top(
    slack: FakeSlack, channel: SlackChannel
) -> None:
    escalated = after(incident_context(), "escalated", "noroshi", "triggered")
    assert channel.deliver(notification("escalated", escalated, target="U0HANAKO")).ok
    [call] = slack.calls_to("chat.postMessage")
    top = call.body["attachments"][0]["blocks"][0]
    assert top["type"] == "section" and "深刻度上昇 Escalated" in top["text"]["text"]


def test_a_snooze_running_out_is_announced_in_the_thread(slack: FakeSlack, channel: SlackChannel) -> None:
    state = channel.deliver(notification("triggered", incident_context())).state
    woke = after(incident_context(), "wake", "noroshi", "triggered")
    assert channel.deliver(notification("triggered", woke, state)).ok
    [reply] = slack.thread(state["ts"])  # type: ignore[index]
    assert "スヌーズ終了 Snooze ended" in reply.body["text"] and reply.body["reply_broadcast"] is True


def test_a_campaign_summary_lists_what_was_recorded(slack: FakeSlack, channel: SlackChannel) -> None:
    context = incident_context()
    context["campaign"] = {
        "name": "新商品発売",
        "starts_at": "2026-11-20T00:00:00+00:00",
        "ends_at": "2026-11-21T00:00:00+00:00",
        "incidents": [
            {"id": 42, "severity": "warning", "kind": "volume"},
            {"id": 43, "severity": "attention"},
        ],
    }
    assert channel.deliver(notification("campaign_summary", context)).ok
    [call] = slack.calls_to("chat.postMessage")
    top = call.body["attachments"][0]["blocks"][0]["text"]["text"]
    assert "キャンペーン期間終了 Campaign window ended* — 新商品発売" in top
    assert "2 件を記録" in top and "• #42 警戒 Warning volume" in top and "• #43 注意 Attention" in top
