"""The incident summary (one language, switchable), the post-incident report and the brand drill-down."""

from __future__ import annotations

import re
from datetime import timedelta

from api.pages import queries
from storage.models import Bucket, Notification
from tests.api.test_pages import NOW, ONSET, Env, Scenario

pytest_plugins = ("tests.api.test_pages",)  # its env and scenario fixtures


def test_language_switch_is_remembered_in_a_cookie(env: Env, scenario: Scenario) -> None:
    path = f"/incidents/{scenario.incident_id}"
    assert '<html lang="ja">' in env.client.get(path).text  # the brand's locale by default
    english = env.client.get(f"{path}?lang=en")
    assert '<html lang="en">' in english.text and "What is driving it" in english.text
    assert "noroshi_lang=en" in english.headers["set-cookie"]
    assert "HttpOnly" in english.headers["set-cookie"]
    assert '<html lang="en">' in env.client.get(path).text  # remembered
    assert '<html lang="en">' in env.client.get(f"{path}/report").text  # on the report too
    assert '<html lang="ja">' in env.client.get(f"{path}?lang=ja").text
    assert '<html lang="ja">' in env.client.get(f"{path}?lang=xx").text  # unknown: the remembered choice


def test_summary_shows_owner_numbers_next_steps_and_spread(env: Env, scenario: Scenario) -> None:
    html = env.client.get(f"/incidents/{scenario.incident_id}").text
    assert "8.0×" in html  # 240 observed / 30 expected
    assert "60分あたり240件（通常30件）" in html  # test nb_tail_1h: the window the detector compared
    owner = html.split('<p class="owner ok">')[1].split("</p>")[0]
    assert "tanaka@example.com" in owner and "（発生から15分）" in owner  # the acknowledgement 15 min in
    waiting = env.client.get(f"/incidents/{scenario.older_incident_id}").text  # nobody acknowledged it
    assert "まだ誰も確認していません — 発生から1時間25分" in waiting
    steps = html.split('<ol class="steps">')[1].split("</ol>")[0]
    assert steps.count("<li>") >= 2
    assert f'href="/incidents/{scenario.incident_id}/runbook?locale=ja"' in html
    spread = html.split('<div class="spread">')[1]
    assert "rss-main" in spread  # the source the posts came from
    assert f'href="/incidents/{scenario.incident_id}/report"' in html


def test_summary_chart_is_accessible_and_marks_onset_and_usual_range(env: Env, scenario: Scenario) -> None:
    html = env.client.get(f"/incidents/{scenario.incident_id}?lang=en").text
    wide = html.split('<div class="chart-wide">')[1].split("</div>")[0]
    assert re.search(r"<title>[^<]+mentions per 5 min[^<]*</title>", wide)
    assert "<desc>Mentions of ノロシ珈琲 rose to 8× the usual level" in wide
    assert 'class="marker onset"' in wide and ">onset</text>" in wide
    # 30 expected per hour → 2.5 per 5-minute bucket; the band starts there (y of 2.5 on a 20 axis)
    expected_y = float(re.search(r'<line class="expected" x1="40" y1="([\d.]+)"', wide)[1])  # type: ignore[index]
    assert abs(expected_y - (18 + 212 - 2.5 / 20 * 212)) < 0.2
    assert ">15:00<" in wide or ">14:00<" in wide  # axis labels in JST (the onset is 14:05 JST)
    assert '<div class="chart-narrow">' in html


def test_report_page_and_markdown(env: Env, scenario: Scenario) -> None:
    with env.factory() as session, session.begin():
        session.add(
            Notification(
                incident_id=scenario.incident_id,
                channel="slack",
                target="C1",
                event="triggered",
                idempotency_key="k1",
                status="sent",
                attempts=1,
                next_attempt_at=ONSET,
                payload={},
                created_at=ONSET + timedelta(minutes=1),
                sent_at=ONSET + timedelta(minutes=2),
            )
        )
        active_to = NOW - timedelta(minutes=5)  # the end of the last anomalous bucket (last signal NOW-10m)
        during = (
            session.query(Bucket)
            .filter(Bucket.brand_id == scenario.brand_id, Bucket.start >= ONSET, Bucket.start < active_to)
            .all()
        )
    html = env.client.get(f"/incidents/{scenario.incident_id}/report").text
    assert "事後報告" in html and "教訓・改善点" in html
    facts = dict(re.findall(r'<th scope="row">([^<]+)</th><td>([^<]*)</td>', html))
    assert facts["言及数（期間中）"] == f"{sum(b.total for b in during):,}"
    assert facts["最初の通知まで"] == "2分"
    assert "通知: Slack (triggered)" in html
    response = env.client.get(f"/incidents/{scenario.incident_id}/report?format=md&lang=en")
    assert response.headers["content-type"].startswith("text/markdown")
    assert (
        f'filename="noroshi-incident-{scenario.incident_id}-en.md"' in response.headers["content-disposition"]
    )
    text = response.text
    assert text.startswith(f"# Post-incident report: ノロシ珈琲 incident #{scenario.incident_id}")
    assert "## Lessons" in text and "| Notified: Slack (triggered) |" in text
    assert env.client.get(f"/incidents/{scenario.incident_id}/report?format=pdf").status_code == 422
    assert env.client.get("/incidents/424242/report").status_code == 404


def test_brand_page_ranges_without_javascript(env: Env, scenario: Scenario) -> None:
    path = f"/brands/{scenario.brand_id}"
    for key, minutes in (("24h", 15), ("7d", 60), ("30d", 360)):
        html = env.client.get(f"{path}?range={key}").text
        assert f"mentions per {minutes} min" in html
        assert f'href="{path}?range={key}#metrics"' not in html  # the shown range is not a link
        assert "<script" not in html
    day = env.client.get(f"{path}?range=24h").text
    with env.factory() as session:
        since = NOW.replace(minute=0) + timedelta(hours=1) - timedelta(hours=24)
        total = sum(
            b.total
            for b in session.query(Bucket).filter(Bucket.brand_id == scenario.brand_id, Bucket.start >= since)
        )
    assert f"{total:,} 件" in day
    assert 'class="usual"' in day  # the detector run's usual range
    assert "対応中 / open 2" in day
    assert "mentions per 60 min" in env.client.get(f"{path}?range=bogus").text  # falls back to 7 days


def test_stored_expectations_draw_a_band_that_follows_the_time_of_day(env: Env, scenario: Scenario) -> None:
    with env.factory() as session, session.begin():
        for bucket in session.query(Bucket).filter(
            Bucket.brand_id == scenario.brand_id, Bucket.start >= ONSET
        ):
            # the detector expected 1 per bucket before 14:30 JST and 4 after; the band is 3 above it
            late = bucket.start >= ONSET + timedelta(minutes=25)
            bucket.expected, bucket.upper = (4.0, 7.0) if late else (1.0, 4.0)
    html = env.client.get(f"/incidents/{scenario.incident_id}").text
    wide = html.split('<div class="chart-wide">')[1].split("</div>")[0]
    assert '<polygon class="usual"' in wide and '<rect class="usual"' not in wide  # no flat band
    expected_line = re.search(r'<polyline class="expected" points="([^"]+)"', wide)
    assert expected_line is not None
    heights = sorted({float(point.split(",")[1]) for point in expected_line[1].split()})
    assert len(heights) == 2  # two levels: the band follows the stored per-bucket expectation
    # hourly on the brand page: 12 buckets summed, band = Σexpected + √Σ(upper − expected)²
    brand = env.client.get(f"/brands/{scenario.brand_id}?range=7d").text
    assert '<polygon class="usual"' in brand


def test_expectation_series_adds_up_buckets_into_coarser_slots(env: Env, scenario: Scenario) -> None:
    hour = ONSET.replace(minute=0)  # 05:00–06:00 UTC, the hour of the onset: 12 stored buckets
    with env.factory() as session, session.begin():
        for bucket in session.query(Bucket).filter(
            Bucket.brand_id == scenario.brand_id, Bucket.start >= hour
        ):
            bucket.expected, bucket.upper = 2.0, 5.0
    with env.factory() as session:
        hourly = queries.expectation_series(
            session, scenario.brand_id, hour, hour + timedelta(hours=1), timedelta(hours=1)
        )
        five = queries.expectation_series(
            session, scenario.brand_id, hour, hour + timedelta(minutes=10), timedelta(minutes=5)
        )
        none = queries.expectation_series(
            session, scenario.brand_id, hour - timedelta(hours=2), hour, timedelta(hours=1)
        )
    [(start, expected, upper)] = hourly
    buckets = (NOW - hour) // timedelta(minutes=5) if hour + timedelta(hours=1) > NOW else 12
    assert start == hour and expected == 2.0 * buckets
    assert abs(upper - (expected + (buckets * 3.0**2) ** 0.5)) < 1e-9
    assert five == [(hour, 2.0, 5.0), (hour + timedelta(minutes=5), 2.0, 5.0)]
    assert none == []  # buckets without a stored expectation: no band
