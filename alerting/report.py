"""The post-incident report, generated from the incident context and its timeline (pure: no I/O, no clock).

Input: the context `build_incident_context` returns, the incident's `Impact` (counted from the buckets by
the caller) and its sent notifications. Output: a `Report` in Japanese or English that the page renders
and `report_markdown` turns into a Markdown document to paste into a wiki. "Lessons" is left blank on
purpose: it is for people to write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alerting.presentation import local_display, percent

CHANNEL_NAMES = {
    "slack": ("Slack", "Slack"),
    "email": ("メール", "e-mail"),
    "webhook": ("Webhook", "webhook"),
}
# What each timeline event is called in the report, (ja, en); unknown events keep their own name.
EVENT_NAMES: dict[str, tuple[str, str]] = {
    "opened": ("検知", "Detected"),
    "updated": ("更新", "Updated"),
    "escalated": ("重大度の上昇", "Severity raised"),
    "flared_again": ("再燃", "Flared again"),
    "acknowledge": ("確認（担当）", "Acknowledged"),
    "snooze": ("保留", "Snoozed"),
    "wake": ("保留解除", "Snooze ended"),
    "resolve": ("解決", "Resolved"),
    "comment": ("コメント", "Comment"),
    "notified": ("通知", "Notified"),
    "muted": ("通知を停止（サイレンス中）", "Notifications muted"),
    "unmuted": ("通知を再開", "Notifications resumed"),
}


@dataclass(frozen=True, slots=True)
class Impact:
    """Counted over the incident's active period (onset to resolve, or to now while open)."""

    total: int
    negative: int
    peak: int  # the most mentions in one bucket
    peak_at: datetime | None
    reach: int  # followers + reposts of the posts, summed over the buckets
    authors: int


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime
    at_local: str
    after_onset: str  # "+12 min"
    event: str  # the timeline event ("opened", "acknowledge", …) or "notified"
    what: str
    actor: str
    note: str


@dataclass(frozen=True, slots=True)
class Report:
    lang: str
    title: str
    summary: str
    facts: list[tuple[str, str]]  # impact and response times, label → value
    timeline: list[Entry]
    drivers: list[str]
    posts: list[dict[str, Any]]
    actions: list[Entry]  # the comments: what people did and said
    open: bool


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def duration_text(span: timedelta | None, lang: str) -> str:
    """'1 h 05 min' / '1時間5分'; '—' when unknown."""
    if span is None:
        return "—"
    minutes = max(int(span.total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if lang == "ja":
        return (f"{days}日" if days else "") + (f"{hours}時間" if hours or days else "") + f"{minutes}分"
    parts = ([f"{days} d"] if days else []) + ([f"{hours} h"] if hours or days else []) + [f"{minutes} min"]
    return " ".join(parts)


def _entries(
    context: dict[str, Any], notifications: list[dict[str, Any]], onset: datetime, lang: str
) -> list[Entry]:
    tz = context["brand"]["timezone"]
    ja = lang == "ja"
    rows: list[tuple[datetime, str, str, str, str]] = []
    for event in context["timeline"]:
        names = EVENT_NAMES.get(event["event"], (event["event"], event["event"]))
        at = _parse(event["at"]) or onset
        rows.append((at, event["event"], names[0 if ja else 1], event["actor"], event["note"] or ""))
    for sent in notifications:
        channel = CHANNEL_NAMES.get(sent["channel"], (sent["channel"], sent["channel"]))[0 if ja else 1]
        what = f"{EVENT_NAMES['notified'][0 if ja else 1]}: {channel} ({sent['event']})"
        rows.append((sent["at"], "notified", what, "noroshi", ""))
    rows.sort(key=lambda row: row[0])
    return [
        Entry(
            at=at,
            at_local=local_display(at, tz, "%m/%d %H:%M %Z") or "",
            after_onset=("+" if at >= onset else "−") + duration_text(abs(at - onset), lang),
            event=event,
            what=what,
            actor=actor,
            note=note,
        )
        for at, event, what, actor, note in rows
    ]


def _first(context: dict[str, Any], event: str) -> datetime | None:
    return next((_parse(e["at"]) for e in context["timeline"] if e["event"] == event), None)


def _facts(
    context: dict[str, Any], impact: Impact, notifications: list[dict[str, Any]], now: datetime, lang: str
) -> list[tuple[str, str]]:
    incident, tz = context["incident"], context["brand"]["timezone"]
    onset = _parse(incident["started_at"]) or now
    resolved = _parse(incident["resolved_at"])
    acknowledged = _first(context, "acknowledge")
    notified = min((n["at"] for n in notifications), default=None)
    share = impact.negative / impact.total if impact.total else None
    ja = lang == "ja"
    peak_at = local_display(impact.peak_at, tz, "%H:%M %Z") if impact.peak_at else None
    rows = [
        ("種類" if ja else "Kind", incident["kind_label"][lang]),
        ("重大度" if ja else "Severity", incident["severity_label"][lang]),
        ("発生" if ja else "Started", incident["started_at_local"] or "—"),
        ("解決" if ja else "Resolved", incident["resolved_at_local"] or ("対応中" if ja else "still open")),
        ("継続時間" if ja else "Duration", duration_text((resolved or now) - onset, lang)),
        ("言及数（期間中）" if ja else "Mentions during", f"{impact.total:,}"),
        ("ピーク" if ja else "Peak", f"{impact.peak:,}" + (f" ({peak_at})" if peak_at else "")),
        (
            "否定的な投稿" if ja else "Negative posts",
            f"{percent(share)}（通常{percent(incident['baseline_share'])}）"
            if ja
            else f"{percent(share)} (usually {percent(incident['baseline_share'])})",
        ),
        ("リーチ（フォロワー＋リポスト）" if ja else "Reach (followers + reposts)", f"{impact.reach:,}"),
        ("投稿者数" if ja else "Authors", f"{impact.authors:,}"),
        (
            "最初の通知まで" if ja else "Time to notify",
            duration_text(notified - onset if notified else None, lang),
        ),
        (
            "確認まで" if ja else "Time to acknowledge",
            duration_text(acknowledged - onset if acknowledged else None, lang),
        ),
        (
            "解決まで" if ja else "Time to resolve",
            duration_text(resolved - onset if resolved else None, lang),
        ),
    ]
    return rows


def build_report(
    context: dict[str, Any], impact: Impact, notifications: list[dict[str, Any]], now: datetime, lang: str
) -> Report:
    """`notifications`: the sent ones, [{"at": datetime, "channel": str, "event": str}]."""
    lang = "en" if lang == "en" else "ja"
    incident, brand = context["incident"], context["brand"]
    onset = _parse(incident["started_at"]) or now
    entries = _entries(context, notifications, onset, lang)
    title = (
        f"事後報告: {brand['name']} インシデント #{incident['id']}"
        if lang == "ja"
        else f"Post-incident report: {brand['name']} incident #{incident['id']}"
    )
    return Report(
        lang=lang,
        title=title,
        summary=context["headline"][lang],
        facts=_facts(context, impact, notifications, now, lang),
        timeline=entries,
        drivers=[d["term"] for d in context["drivers"]],
        posts=context["top_posts"],
        actions=[e for e in entries if e.event == "comment"],
        open=incident["resolved_at"] is None,
    )


def _md(text: str) -> str:
    """Escapes what would turn text from posts and comments into Markdown markup or a table break."""
    for char in "\\`*_[]<>|":
        text = text.replace(char, "\\" + char)
    text = " ".join(text.split())
    return "\\" + text if text.startswith(("#", "-", "+", ">")) else text  # no heading/list/quote


HEADINGS = {
    "ja": (
        "概要",
        "影響",
        "経緯",
        "原因となった話題",
        "主な投稿",
        "実施した対応",
        "教訓・改善点",
        "時刻",
        "経過",
        "出来事",
        "実行者",
        "メモ",
    ),
    "en": (
        "Summary",
        "Impact",
        "Timeline",
        "What drove it",
        "Top posts",
        "What was done",
        "Lessons",
        "Time",
        "After onset",
        "Event",
        "Actor",
        "Note",
    ),
}


def report_markdown(report: Report) -> str:
    h = HEADINGS[report.lang]
    ja = report.lang == "ja"
    lines = [f"# {_md(report.title)}", "", f"## {h[0]}", "", _md(report.summary), ""]
    if report.open:
        lines += ["> " + ("このインシデントはまだ対応中です。" if ja else "This incident is still open."), ""]
    lines += [f"## {h[1]}", ""] + [f"- **{_md(k)}**: {_md(v)}" for k, v in report.facts] + [""]
    lines += [
        f"## {h[2]}",
        "",
        f"| {h[7]} | {h[8]} | {h[9]} | {h[10]} | {h[11]} |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {_md(e.at_local)} | {_md(e.after_onset)} | {_md(e.what)} | {_md(e.actor)} | {_md(e.note)} |"
        for e in report.timeline
    ]
    lines += ["", f"## {h[3]}", "", (", ".join(_md(t) for t in report.drivers) or "—"), ""]
    lines += [f"## {h[4]}", ""] + [
        f"- {_md(p['text'][:200])} — {_md(p.get('author') or '—')}, reach {p['reach']:,}"
        for p in report.posts
    ]
    lines += ["", f"## {h[5]}", ""]
    lines += [f"- {_md(e.at_local)} {_md(e.actor)}: {_md(e.note)}" for e in report.actions] or ["- —"]
    lines += ["", f"## {h[6]}", "", "- ", ""]
    return "\n".join(lines)
