"""The Slack incident card (Block Kit) and its thread lines, rendered from an incident context.

Input is the context dict built by `alerting.summary.build_incident_context`. Every key is read with
`.get` so a partial context still renders a card. Keys used:

- ``incident``: id, kind, status, severity, severity_label {ja, en}, started_at, resolved_at,
  observed, expected, ratio, negative_share, baseline_share, url, and if present acknowledged_by,
  resolved_by, snoozed_until, waves
- ``brand``: name, timezone (display times), locale ("ja" | "en": which headline comes first)
- ``headline``: {ja, en}
- ``series``: [{start, total, negative}] → the text sparkline (works offline, no image needed)
- ``chart_url``: an http(s) PNG of the same series → an image block when present
- ``drivers``: [{term, score}]; ``top_posts``: [{text, author, followers, reposts, url}]
- ``runbook``: {title, first_steps, url}; ``timeline``: [{at, event, actor, note}]; ``actor``

The whole card sits in one legacy attachment because only attachments carry the severity colour
bar; the top-level ``text`` is what notifications and screen readers show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alerting.severity import SEVERITY_LABELS

ACTION_ACKNOWLEDGE = "noroshi_acknowledge"
ACTION_RESOLVE = "noroshi_resolve"
ACTION_SNOOZE = "noroshi_snooze"
SNOOZE_CHOICES_MINUTES = (60, 240)

SEVERITY_COLOURS = {"attention": "#E8B100", "warning": "#F2711C", "flame": "#D62D20"}
SEVERITY_EMOJI = {"attention": ":large_yellow_circle:", "warning": ":large_orange_circle:", "flame": ":fire:"}
RESOLVED_COLOUR = "#2EB67D"
UNKNOWN_COLOUR = "#868E96"

STATUS_LABELS = {
    "triggered": "未対応 Open",
    "acknowledged": "対応中 Acknowledged",
    "snoozed": "スヌーズ中 Snoozed",
    "resolved": "解決済み Resolved",
}
KIND_LABELS = {"volume": "言及数 Volume", "negativity": "ネガティブ率 Negativity"}

# Which buttons make sense in which state (a resolved card has none: nothing left to do from Slack).
BUTTONS_BY_STATUS: dict[str, tuple[str, ...]] = {
    "triggered": (ACTION_ACKNOWLEDGE, ACTION_RESOLVE, ACTION_SNOOZE),
    "acknowledged": (ACTION_RESOLVE, ACTION_SNOOZE),
    "snoozed": (ACTION_ACKNOWLEDGE, ACTION_RESOLVE),
    "resolved": (),
}

# Timeline events (both the lifecycle's action names and the notification events) → thread line.
EVENT_LINES: dict[str, tuple[str, str]] = {
    "opened": (":rotating_light:", "検知 Opened"),
    "triggered": (":rotating_light:", "検知 Opened"),
    "updated": (":chart_with_upwards_trend:", "更新 Updated"),
    "escalated": (":arrow_double_up:", "深刻度上昇 Escalated"),
    "escalate": (":arrow_double_up:", "深刻度上昇 Escalated"),
    "flared_again": (":repeat:", "再燃 Flared again"),
    "reminder": (":alarm_clock:", "リマインド Reminder: still open"),
    "acknowledge": (":eyes:", "対応開始 Acknowledged"),
    "acknowledged": (":eyes:", "対応開始 Acknowledged"),
    "snooze": (":zzz:", "スヌーズ Snoozed"),
    "snoozed": (":zzz:", "スヌーズ Snoozed"),
    "wake": (":bell:", "スヌーズ終了 Snooze ended"),
    "resolve": (":white_check_mark:", "解決 Resolved"),
    "resolved": (":white_check_mark:", "解決 Resolved"),
    "commented": (":speech_balloon:", "コメント Comment"),
    "comment": (":speech_balloon:", "コメント Comment"),
}

SPARK_LEVELS = "▁▂▃▄▅▆▇█"
SECTION_LIMIT = 2900  # Slack rejects section text over 3000 characters
HEADER_LIMIT = 150
TOP_POSTS = 3
DRIVERS = 8
FIRST_STEPS = 3


def escape(text: Any) -> str:
    """Slack mrkdwn control characters; user text (posts, terms, names) must not become links or markup."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _link(url: Any, label: str) -> str:
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return escape(label)
    return f"<{url.replace('|', '%7C')}|{escape(label).replace('|', '¦')}>"


def _number(value: Any, digits: int = 0) -> str:
    if not isinstance(value, int | float):
        return "–"
    return f"{value:,.{digits}f}"


def _percent(value: Any) -> str:
    return f"{value * 100:.0f}%" if isinstance(value, int | float) else "–"


def _local_time(value: Any, timezone: Any) -> str:
    """ISO string → "2026-11-21 15:05 JST" in the brand's zone (UTC when the zone is unknown)."""
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return "–"
    if at.tzinfo is None:
        return "–"  # never guess a naive time's zone
    try:
        zone = ZoneInfo(str(timezone or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = at.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def sparkline(values: Sequence[Any]) -> str:
    """Block characters scaled from 0 to the series maximum (0 is the lowest block, so flat = ▁▁▁)."""
    numbers = [float(v) if isinstance(v, int | float) else 0.0 for v in values]
    top = max(numbers, default=0.0)
    if top <= 0:
        return SPARK_LEVELS[0] * len(numbers)
    last = len(SPARK_LEVELS) - 1
    return "".join(SPARK_LEVELS[min(last, round(v / top * last))] for v in numbers)


def severity_label(incident: Mapping[str, Any]) -> str:
    severity = str(incident.get("severity", ""))
    labels = incident.get("severity_label") or SEVERITY_LABELS.get(severity) or {}
    ja, en = labels.get("ja", severity), labels.get("en", "")
    return f"{ja} {en}".strip()


def card_colour(incident: Mapping[str, Any]) -> str:
    if incident.get("status") == "resolved":
        return RESOLVED_COLOUR
    return SEVERITY_COLOURS.get(str(incident.get("severity")), UNKNOWN_COLOUR)


def _last_actor(context: Mapping[str, Any], events: tuple[str, ...]) -> str | None:
    for entry in reversed(context.get("timeline") or []):
        if isinstance(entry, Mapping) and entry.get("event") in events and entry.get("actor"):
            return str(entry["actor"])
    actor = context.get("actor")
    return str(actor) if actor else None


def status_line(context: Mapping[str, Any]) -> str:
    """The current status and who set it, e.g. `対応中 Acknowledged by slack:hanako (U1)`."""
    incident = context.get("incident") or {}
    status = str(incident.get("status", ""))
    text = STATUS_LABELS.get(status, status or "–")
    zone = (context.get("brand") or {}).get("timezone")
    if status == "acknowledged":
        who = incident.get("acknowledged_by") or _last_actor(context, ("acknowledge", "acknowledged"))
        text += f" by {escape(who)}" if who else ""
    elif status == "resolved":
        who = incident.get("resolved_by") or _last_actor(context, ("resolve", "resolved"))
        text += f" by {escape(who)}" if who else ""
        text += f" · {_local_time(incident.get('resolved_at'), zone)}" if incident.get("resolved_at") else ""
    elif status == "snoozed" and incident.get("snoozed_until"):
        text += f" until {_local_time(incident.get('snoozed_until'), zone)}"
    return text


def fallback_text(context: Mapping[str, Any]) -> str:
    incident = context.get("incident") or {}
    brand = (context.get("brand") or {}).get("name", "")
    return (f"[{severity_label(incident)}] {brand} — {_headline(context)} ({status_line(context)})").strip()


def _headline(context: Mapping[str, Any]) -> str:
    headline = context.get("headline") or {}
    locale = (context.get("brand") or {}).get("locale") or "ja"
    first = headline.get(locale) or headline.get("ja") or headline.get("en") or ""
    return str(first)


def _headline_block(context: Mapping[str, Any]) -> dict[str, Any]:
    headline = context.get("headline") or {}
    lines = [str(headline[k]) for k in ("ja", "en") if headline.get(k)]
    incident = context.get("incident") or {}
    kind = KIND_LABELS.get(str(incident.get("kind")), str(incident.get("kind", "")))
    zone = (context.get("brand") or {}).get("timezone")
    meta = (
        f"#{incident.get('id', '?')} · {kind} · 開始 Started {_local_time(incident.get('started_at'), zone)}"
    )
    text = "\n".join([*(f"*{escape(line)}*" for line in lines), meta])
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, SECTION_LIMIT)}}


def _facts_block(incident: Mapping[str, Any]) -> dict[str, Any]:
    ratio = incident.get("ratio")
    ratio_text = f" (×{ratio:.1f})" if isinstance(ratio, int | float) else ""
    volume = (
        f"*言及数 Mentions*\n{_number(incident.get('observed'))}"
        f" vs 通常 usual {_number(incident.get('expected'), 1)}{ratio_text}"
    )
    share = (
        f"*ネガティブ率 Negative share*\n{_percent(incident.get('negative_share'))}"
        f" vs 通常 usual {_percent(incident.get('baseline_share'))}"
    )
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": volume}, {"type": "mrkdwn", "text": share}],
    }


def _chart_blocks(context: Mapping[str, Any]) -> list[dict[str, Any]]:
    series = [p for p in context.get("series") or [] if isinstance(p, Mapping)]
    blocks: list[dict[str, Any]] = []
    chart_url = context.get("chart_url")
    if isinstance(chart_url, str) and chart_url.startswith(("http://", "https://")):
        blocks.append(
            {"type": "image", "image_url": chart_url, "alt_text": "mentions per bucket, last hours"}
        )
    if series:
        total = sparkline([p.get("total") for p in series])
        negative = sparkline([p.get("negative") for p in series])
        peak = max((p.get("total") or 0 for p in series), default=0)
        text = f"`{total}` 全体 all (peak {_number(peak)})\n`{negative}` ネガティブ negative"
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text, SECTION_LIMIT)}]}
        )
    return blocks


def _drivers_block(context: Mapping[str, Any]) -> dict[str, Any] | None:
    terms = [
        str(d.get("term")) for d in context.get("drivers") or [] if isinstance(d, Mapping) and d.get("term")
    ]
    if not terms:
        return None
    text = "*急増した語 Drivers*\n" + " · ".join(escape(t) for t in terms[:DRIVERS])
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, SECTION_LIMIT)}}


def _posts_block(context: Mapping[str, Any]) -> dict[str, Any] | None:
    posts = [p for p in context.get("top_posts") or [] if isinstance(p, Mapping)]
    if not posts:
        return None
    lines = ["*拡散している投稿 Top posts by reach*"]
    for post in posts[:TOP_POSTS]:
        snippet = _clip(" ".join(str(post.get("text", "")).split()), 140)
        reach = f"followers {_number(post.get('followers'))} · reposts {_number(post.get('reposts'))}"
        author = f"@{escape(post['author'])} · " if post.get("author") else ""
        lines.append(f"• {_link(post.get('url'), snippet)}\n   {author}{reach}")
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip("\n".join(lines), SECTION_LIMIT)}}


def _runbook_block(context: Mapping[str, Any]) -> dict[str, Any]:
    runbook = context.get("runbook") or {}
    incident = context.get("incident") or {}
    steps = [str(s) for s in runbook.get("first_steps") or []][:FIRST_STEPS]
    title = f" — {escape(runbook['title'])}" if runbook.get("title") else ""
    lines = [f"*初動 First steps*{title}", *(f"{i}. {escape(s)}" for i, s in enumerate(steps, 1))]
    links = [
        _link(runbook.get("url"), "手順書 Full runbook") if runbook.get("url") else "",
        _link(incident.get("url"), "インシデント Incident page") if incident.get("url") else "",
    ]
    lines.append(" · ".join(link for link in links if link))
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip("\n".join(lines), SECTION_LIMIT)}}


def _button(action_id: str, text: str, incident_id: str, style: str | None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "value": incident_id,
    }
    if style:
        button["style"] = style
    return button


def _snooze_select(incident_id: str) -> dict[str, Any]:
    options = [
        {
            "text": {"type": "plain_text", "text": f"{m // 60}時間 {m // 60} h"},
            "value": f"{incident_id}:{m}",
        }
        for m in SNOOZE_CHOICES_MINUTES
    ]
    return {
        "type": "static_select",
        "action_id": ACTION_SNOOZE,
        "placeholder": {"type": "plain_text", "text": "スヌーズ Snooze"},
        "options": options,
    }


def _actions_block(incident: Mapping[str, Any]) -> dict[str, Any] | None:
    incident_id = str(incident.get("id", ""))
    wanted = BUTTONS_BY_STATUS.get(str(incident.get("status")), ())
    if not wanted or not incident_id:
        return None
    elements = {
        ACTION_ACKNOWLEDGE: _button(ACTION_ACKNOWLEDGE, "確認 Acknowledge", incident_id, "primary"),
        ACTION_RESOLVE: _button(ACTION_RESOLVE, "解決 Resolve", incident_id, None),
        ACTION_SNOOZE: _snooze_select(incident_id),
    }
    return {
        "type": "actions",
        "block_id": f"noroshi_incident_{incident_id}",
        "elements": [elements[a] for a in wanted],
    }


def build_card(context: Mapping[str, Any], announcement: str | None = None) -> dict[str, Any]:
    """The message (``text`` + coloured ``attachments``) for chat.postMessage / chat.update / webhooks.

    `announcement` puts an event line on top (the webhook mode, which cannot reply in a thread).
    """
    incident = context.get("incident") or {}
    brand = (context.get("brand") or {}).get("name", "")
    emoji = (
        ":white_check_mark:"
        if incident.get("status") == "resolved"
        else SEVERITY_EMOJI.get(str(incident.get("severity")), ":warning:")
    )
    header = _clip(f"{severity_label(incident)} · {brand}", HEADER_LIMIT)
    blocks: list[dict[str, Any]] = []
    if announcement:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _clip(announcement, SECTION_LIMIT)}}
        )
    blocks += [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"{emoji} *{status_line(context)}*"}]},
        _headline_block(context),
        _facts_block(incident),
        *_chart_blocks(context),
    ]
    blocks += [b for b in (_drivers_block(context), _posts_block(context)) if b]
    blocks.append(_runbook_block(context))
    actions = _actions_block(incident)
    if actions:
        blocks.append(actions)
    return {
        "text": fallback_text(context),
        "attachments": [{"color": card_colour(incident), "blocks": blocks}],
    }


# A notification event → the timeline events that caused it (the latest one gives actor, time and note).
CAUSES: dict[str, tuple[str, ...]] = {
    "triggered": ("wake", "opened"),  # on an existing card: the snooze ran out
    "escalated": ("escalated",),
    "flared_again": ("flared_again",),
    "acknowledged": ("acknowledge", "acknowledged"),
    "snoozed": ("snooze", "snoozed"),
    "resolved": ("resolve", "resolved"),
    "commented": ("comment", "commented"),
}


def campaign_line(context: Mapping[str, Any]) -> str:
    campaign = context.get("campaign") or {}
    incidents = [i for i in campaign.get("incidents") or [] if isinstance(i, Mapping)]
    zone = (context.get("brand") or {}).get("timezone")
    lines = [
        f":calendar: *キャンペーン期間終了 Campaign window ended* — {escape(campaign.get('name', ''))}"
        f" ({_local_time(campaign.get('starts_at'), zone)} – {_local_time(campaign.get('ends_at'), zone)})",
        f"{len(incidents)} 件を記録・通知なし · {len(incidents)} incident(s) recorded without paging",
        *(f"• #{i.get('id')} {severity_label(i)} {escape(i.get('kind', ''))}" for i in incidents[:10]),
    ]
    return _clip("\n".join(lines), SECTION_LIMIT)


def thread_line(event: str, context: Mapping[str, Any]) -> str:
    """One timeline line for the thread, from the latest timeline entry that caused this notification."""
    if event == "campaign_summary":
        return campaign_line(context)
    causes = CAUSES.get(event, ())
    matching = [
        e for e in context.get("timeline") or [] if isinstance(e, Mapping) and e.get("event") in causes
    ]
    entry: Mapping[str, Any] = matching[-1] if matching else {}
    emoji, label = EVENT_LINES.get(str(entry.get("event") or event), (":information_source:", event))
    incident = context.get("incident") or {}
    zone = (context.get("brand") or {}).get("timezone")
    parts = [f"{emoji} *{label}*"]
    if event == "escalated":
        parts.append(f"→ {severity_label(incident)}")
    if event == "flared_again" and incident.get("waves"):
        parts.append(f"第{incident['waves']}波 wave {incident['waves']} · {severity_label(incident)}")
    if event == "snoozed" and incident.get("snoozed_until"):
        parts.append(f"until {_local_time(incident['snoozed_until'], zone)}")
    actor = entry.get("actor") or context.get("actor")
    if actor:
        parts.append(f"by {escape(actor)}")
    if entry.get("at"):
        parts.append(f"({_local_time(entry.get('at'), zone)})")
    note = entry.get("note")
    line = " ".join(parts) + (f"\n> {escape(note)}" if note else "")
    return _clip(line, SECTION_LIMIT)
