"""The post-incident report: built from an incident context (pure) and from real rows on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from alerting.report import Impact, build_report, duration_text, report_markdown
from alerting.summary import build_incident_context
from storage.models import Incident
from tests.alerting.incident_rows import BRAND, NOW, add_flame

ONSET = datetime(2024, 6, 3, 5, 5, tzinfo=UTC)  # 14:05 JST
IMPACT = Impact(
    total=1240, negative=780, peak=310, peak_at=ONSET + timedelta(minutes=20), reach=98765, authors=640
)


def _context(resolved: bool = True) -> dict[str, Any]:
    def event(minutes: int, name: str, actor: str = "noroshi", note: str | None = None) -> dict[str, Any]:
        at = (ONSET + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
        return {"at": at, "event": name, "actor": actor, "note": note}

    timeline = [
        event(0, "opened"),
        event(12, "acknowledge", "tanaka"),
        event(30, "comment", "tanaka", "店舗に確認 | *謝罪* を準備"),
    ] + ([event(95, "resolve", "tanaka")] if resolved else [])
    return {
        "incident": {
            "id": 7,
            "kind_label": {"ja": "言及数の急増", "en": "Volume spike"},
            "severity_label": {"ja": "炎上", "en": "Flame"},
            "started_at": "2024-06-03T05:05:00Z",
            "started_at_local": "2024-06-03 14:05 JST",
            "resolved_at": "2024-06-03T06:40:00Z" if resolved else None,
            "resolved_at_local": "2024-06-03 15:40 JST" if resolved else None,
            "baseline_share": 0.12,
        },
        "brand": {"name": BRAND, "timezone": "Asia/Tokyo"},
        "headline": {"ja": "ノロシ珈琲の言及が通常の8倍に増加。", "en": "Mentions of ノロシ珈琲 rose to 8×."},
        "drivers": [{"term": "バイトテロ", "score": 9.1}, {"term": "店員", "score": 4.0}],
        "top_posts": [
            {"text": "動画 <b>見た</b>", "author": "a", "reach": 5000, "posted_at_local": "06/03 14:10"}
        ],
        "timeline": timeline,
    }


def test_durations_and_times_from_the_timeline() -> None:
    sent = [{"at": ONSET + timedelta(minutes=2), "channel": "slack", "event": "triggered"}]
    report = build_report(_context(), IMPACT, sent, NOW, "ja")
    facts = dict(report.facts)
    assert facts["最初の通知まで"] == "2分"
    assert facts["確認まで"] == "12分"
    assert facts["解決まで"] == "1時間35分"
    assert facts["継続時間"] == "1時間35分"
    assert facts["言及数（期間中）"] == "1,240"
    assert facts["否定的な投稿"] == "63%（通常12%）"  # 780 / 1240
    assert facts["ピーク"] == "310 (14:25 JST)"
    whats = [entry.what for entry in report.timeline]
    assert whats == ["検知", "通知: Slack (triggered)", "確認（担当）", "コメント", "解決"]
    assert [entry.after_onset for entry in report.timeline][:3] == ["+0分", "+2分", "+12分"]
    assert [entry.note for entry in report.actions] == ["店舗に確認 | *謝罪* を準備"]
    assert report.drivers == ["バイトテロ", "店員"] and not report.open


def test_english_and_open_incident() -> None:
    report = build_report(_context(resolved=False), IMPACT, [], ONSET + timedelta(hours=2), "en")
    facts = dict(report.facts)
    assert report.title == f"Post-incident report: {BRAND} incident #7"
    assert facts["Time to resolve"] == "—" and facts["Time to notify"] == "—"
    assert facts["Duration"] == "2 h 0 min" and facts["Resolved"] == "still open"
    assert report.open and report.summary.startswith("Mentions of")


def test_markdown_escapes_and_has_every_section() -> None:
    text = report_markdown(build_report(_context(), IMPACT, [], NOW, "ja"))
    for heading in (
        "## 概要",
        "## 影響",
        "## 経緯",
        "## 原因となった話題",
        "## 実施した対応",
        "## 教訓・改善点",
    ):
        assert heading in text
    assert "店舗に確認 \\| \\*謝罪\\* を準備" in text  # a comment cannot break the table or add emphasis
    assert "\\<b\\>" in text and "<b>" not in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert all(line.count(" | ") == 4 for line in rows)  # five cells per timeline row


def test_duration_text() -> None:
    assert duration_text(timedelta(days=1, hours=2, minutes=3), "ja") == "1日2時間3分"
    assert duration_text(timedelta(minutes=59, seconds=59), "en") == "59 min"
    assert duration_text(None, "en") == "—"


def test_report_from_real_rows(factory) -> None:  # type: ignore[no-untyped-def]
    with factory() as session, session.begin():
        flame = add_flame(session)
    with factory() as session:
        incident = session.get(Incident, flame.incident_id)
        assert incident is not None
        context = build_incident_context(session, incident, "https://n.example", NOW)
    report = build_report(context, IMPACT, [], NOW, "ja")
    assert report.summary == context["headline"]["ja"] and BRAND in report.title
    assert report.timeline and report.timeline[0].what == "検知"
    assert report.drivers == [d["term"] for d in context["drivers"]]
