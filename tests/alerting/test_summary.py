"""The incident context every channel renders, built from real rows on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from alerting.charts import chart_from_context, render_incident_chart_png
from alerting.summary import build_incident_context
from api.context import ApiContext
from api.pages import router
from storage.models import Incident
from tests.alerting.incident_rows import BRAND, NOW, ONSET, add_flame

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_context_from_real_rows(factory) -> None:  # type: ignore[no-untyped-def]
    with factory() as session, session.begin():
        flame = add_flame(session)
    with factory() as session:
        context = build_incident_context(
            session, session.get(Incident, flame.incident_id), "https://n.example/", NOW
        )

    assert json.loads(json.dumps(context, ensure_ascii=False)) == context  # plain JSON, nothing lost
    incident = context["incident"]
    assert incident["ratio"] == 240 / 30
    # the incident's rows carry no shares: both come from the buckets (during: 151/240, day before: 4/30)
    assert incident["negative_share"] == 151 / 240
    assert incident["baseline_share"] == 4 / 30
    assert incident["started_at"] == "2024-06-03T05:05:00Z"
    assert incident["started_at_local"] == "2024-06-03 14:05 JST"
    assert incident["severity_label"] == {"ja": "炎上", "en": "Flame-up"}
    assert incident["url"] == f"https://n.example/incidents/{flame.incident_id}"
    assert context["brand"]["name"] == BRAND and context["brand"]["timezone"] == "Asia/Tokyo"
    assert (
        context["headline"]["ja"]
        == f"{BRAND}の言及が通常の8倍に増加（14:05 JST〜）。否定的な投稿は63%（通常13%）。"
    )
    assert context["headline"]["en"].startswith(
        f"Mentions of {BRAND} rose to 8× the usual level from 14:05 JST"
    )

    expected_order = sorted(flame.posts, key=lambda p: -(p[1] + p[2]))[:5]
    got = [(p["author"], p["followers"], p["reposts"]) for p in context["top_posts"]]
    assert [p[1] + p[2] for p in got] == [p[1] + p[2] for p in expected_order]
    assert got[0][0] == "big_account"
    assert all(p["url"] is None or p["url"].startswith("https://") for p in context["top_posts"])
    assert any(p["url"] is None for p in context["top_posts"])  # the javascript: URL was dropped

    series = context["series"]
    assert len(series) == 72  # six hours of closed 5-minute buckets, the filling one left out
    assert series[-1]["start"] == "2024-06-03T05:55:00Z"
    assert [p["total"] for p in series if p["start"] >= "2024-06-03T05:05"] == [240] * 11
    terms = [d["term"] for d in context["drivers"]]
    assert "厨房" in terms and BRAND not in terms
    assert [e["event"] for e in context["timeline"]] == ["opened", "acknowledge"]
    assert context["timeline"][1]["actor"] == "slack:U123 佐藤"
    assert context["runbook"]["title"].startswith("炎上") and BRAND in context["runbook"]["title"]
    assert len(context["runbook"]["first_steps"]) == 4
    assert context["chart_url"] == f"https://n.example/incidents/{flame.incident_id}/chart.png"
    assert context["actor"] is None


def test_chart_png_renders_from_context_and_points() -> None:
    series = [
        {"start": (ONSET + timedelta(minutes=5 * i)).isoformat(), "total": 10 * i, "negative": i}
        for i in range(12)
    ]
    context = {
        "incident": {"started_at": ONSET.isoformat(), "resolved_at": None},
        "brand": {"name": BRAND, "timezone": "Asia/Tokyo"},
        "series": series,
    }
    png = chart_from_context(context)
    assert png.startswith(PNG_MAGIC) and len(png) > 5000
    assert render_incident_chart_png([], None).startswith(PNG_MAGIC)  # nothing to draw still draws


def test_chart_and_runbook_pages(factory) -> None:  # type: ignore[no-untyped-def]
    with factory() as session, session.begin():
        flame = add_flame(session)
    app = FastAPI()
    app.state.context = ApiContext(factory=factory, ingestor=None, clock=lambda: NOW)  # type: ignore[arg-type]
    app.include_router(router)
    with TestClient(app) as client:
        chart = client.get(f"/incidents/{flame.incident_id}/chart.png")
        assert chart.status_code == 200 and chart.headers["content-type"] == "image/png"
        assert chart.content.startswith(PNG_MAGIC)
        assert client.get("/incidents/999/chart.png").status_code == 404

        page = client.get(f"/incidents/{flame.incident_id}/runbook")
        assert page.status_code == 200
        assert "まず最初に" in page.text and "<h1>炎上" in page.text
        english = client.get(f"/incidents/{flame.incident_id}/runbook?locale=en")
        assert "First steps" in english.text and "まず最初に" not in english.text
        assert client.get("/incidents/abc/runbook").status_code == 404
