"""GET /digest and /digest/{YYYY-MM-DD}: the seeded week rendered in Japanese or English, with SVG trends."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.context import ApiContext
from collectors.ingest import MentionIngestor
from tests.alerting.digest_rows import COMPLETE_NOW, DAY, MIDDAY_NOW, Week, add_week


@pytest.fixture
def week(factory) -> Week:  # type: ignore[no-untyped-def]
    with factory() as session, session.begin():
        return add_week(session)


def _client(factory, scorer, now) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(
        create_app(ApiContext(factory=factory, ingestor=MentionIngestor(scorer), clock=lambda: now))
    )


@pytest.fixture
def complete(factory, scorer, week: Week) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with _client(factory, scorer, COMPLETE_NOW) as client:
        yield client


def _kpi(html: str, name: str) -> str:
    match = re.search(rf'id="kpi-{name}">([^<]*)<', html)
    assert match, name
    return match.group(1)


def test_a_past_day_in_english(complete: TestClient, week: Week) -> None:
    response = complete.get(f"/digest/{DAY.isoformat()}?lang=en")
    assert response.status_code == 200
    html = response.text
    assert "Daily digest" in html and "Thursday, 2026-11-19" in html and "Today so far" not in html
    assert "<li>2 incidents opened, 2 resolved, 1 still open</li>" in html
    assert "ノロシ珈琲 had its worst day of the week (61 negative posts)" in html
    assert (_kpi(html, "opened"), _kpi(html, "resolved")) == ("2", "2")
    assert (_kpi(html, "tta"), _kpi(html, "ttr")) == ("1 h 21 min", "1 h 20 min")
    rows = re.findall(r'<tr class="digest-brand[^"]*" data-brand="(\d+)">', html)
    assert sorted(map(int, rows)) == sorted([week.coffee, week.tea])
    assert "103% more than last Thursday" in html and "20% negative (usually 9%)" in html
    # the 7-day trend is a server-side SVG whose title lists the counts
    assert html.count('<svg class="spark vol"') == 2
    assert "11/18 107 · 11/19 305" in html
    assert f'href="/incidents/{week.coffee_flame}?lang=en"' in html
    assert f'href="/incidents/{week.tea_volume}?lang=en"' in html
    assert "opened and resolved" in html and html.count("#" + str(week.coffee_flame) + "</a>") == 1
    assert "<script" not in html
    assert 'href="/digest/2026-11-18"' in html and 'href="/digest/2026-11-20"' in html  # today is the 20th
    assert response.cookies.get("noroshi_lang") == "en"


def test_japanese_by_default(complete: TestClient) -> None:
    html = complete.get(f"/digest/{DAY.isoformat()}").text
    assert "日次ダイジェスト：2026年11月19日（木）" in html
    assert "<li>インシデント：新規2件、解決2件、対応中1件</li>" in html
    assert _kpi(html, "tta") == "1時間21分"
    assert "先週の木曜日より103%多い" in html


def test_today_so_far(factory, scorer, week: Week) -> None:  # type: ignore[no-untyped-def]
    with _client(factory, scorer, MIDDAY_NOW) as client:
        html = client.get("/digest?lang=en").text
    assert "Today so far" in html and "12:00 JST" in html
    assert "<li>1 incident opened, 1 resolved, 1 still open</li>" in html
    assert 'href="/digest/2026-11-18"' in html and "next day" not in html


@pytest.mark.parametrize("day", ["2026-13-01", "yesterday", "2026-11-21", "2026-11-19x"])
def test_bad_or_future_days_are_404(complete: TestClient, day: str) -> None:
    response = complete.get(f"/digest/{day}")
    assert response.status_code == 404
    assert "見つかりません" in response.text


def test_the_page_needs_a_key_when_pages_are_protected(factory, scorer, week: Week) -> None:  # type: ignore[no-untyped-def]
    context = ApiContext(
        factory=factory, ingestor=MentionIngestor(scorer), clock=lambda: COMPLETE_NOW, page_secret="s" * 32
    )
    with TestClient(create_app(context)) as client:
        response = client.get(f"/digest/{DAY.isoformat()}")
    assert response.status_code == 401 and "ノロシ珈琲" not in response.text
