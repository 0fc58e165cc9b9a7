"""Server-rendered pages: dashboard, incident, brand — rendered from rows inserted through the ORM."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from alerting.drivers import tokenize, top_terms
from api.context import ApiContext
from api.pages import queries, router
from api.pages.charts import SeriesPoint, sparkline, volume_chart
from api.pages.present import zone
from storage.models import (
    Brand,
    Bucket,
    DetectorRun,
    Incident,
    IncidentEvent,
    Mention,
    MentionBrand,
    Source,
)
from storage.timebuckets import bucket_start

NOW = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)  # 15:00 JST
ONSET = datetime(2024, 6, 3, 5, 5, tzinfo=UTC)  # 14:05 JST
JST = zone("Asia/Tokyo")


@dataclass
class Env:
    client: TestClient
    factory: sessionmaker[Session]
    engine: object


@pytest.fixture()
def env(engine, factory) -> Iterator[Env]:  # type: ignore[no-untyped-def]  # SQLite, and PostgreSQL when given
    app = FastAPI()
    app.state.context = ApiContext(factory=factory, ingestor=None, clock=lambda: NOW)  # type: ignore[arg-type]
    app.include_router(router)
    with TestClient(app) as client:
        yield Env(client, factory, engine)


def add_brand(session: Session, name: str, **fields: object) -> Brand:
    brand = Brand(
        name=name,
        keywords=fields.pop("keywords", [name]),
        created_at=NOW - timedelta(days=30),
        updated_at=NOW - timedelta(days=30),
        **fields,
    )
    session.add(brand)
    session.flush()
    return brand


def add_buckets(
    session: Session, brand: Brand, since: datetime, until: datetime, total: int, negative: int
) -> None:
    at = since
    while at < until:
        session.merge(Bucket(brand_id=brand.id, start=at, total=total, negative=negative, reach=0, authors=0))
        at += timedelta(minutes=5)


_mention_ids = iter(range(1, 1_000_000))


def add_post(
    session: Session,
    source: Source,
    brand: Brand,
    text: str,
    posted_at: datetime,
    followers: int = 10,
    reposts: int = 0,
    negative: bool = False,
    url: str | None = None,
) -> Mention:
    mention = Mention(
        source_id=source.id,
        external_id=str(next(_mention_ids)),
        posted_at=posted_at,
        collected_at=posted_at,
        author=f"user{followers}",
        author_followers=followers,
        reposts=reposts,
        url=url,
        lang="ja",
        text=text,
        negativity=0.9 if negative else 0.1,
        negative=negative,
    )
    session.add(mention)
    session.flush()
    session.add(MentionBrand(mention_id=mention.id, brand_id=brand.id, posted_at=posted_at))
    return mention


def add_incident(session: Session, brand: Brand, **fields: object) -> Incident:
    values: dict[str, object] = dict(
        kind="volume",
        status="triggered",
        severity="flame",
        started_at=ONSET,
        last_signal_at=NOW - timedelta(minutes=10),
        score=9.0,
        peak_score=9.5,
        observed=240.0,
        expected=30.0,
        upper=60.0,
        negative_share=0.63,
        baseline_share=0.12,
        test="nb_tail_1h",
        evidence={},
        created_at=ONSET,
        updated_at=NOW,
    )
    values.update(fields)
    incident = Incident(brand_id=brand.id, dedup_key=f"brand:{brand.id}:{values['kind']}", **values)
    session.add(incident)
    session.flush()
    return incident


def row_of(html: str, marker: str, table: str = "") -> str:
    """The first <tr> … </tr> containing `marker`, in the table whose opening tag contains `table`."""
    if table:
        html = html.split(f"<table {table}>")[1].split("</table>")[0]
    for row in re.findall(r"<tr.*?</tr>", html, flags=re.S):
        if marker in row:
            return row
    raise AssertionError(f"no row contains {marker!r}")


@dataclass
class Scenario:
    brand_id: int
    quiet_brand_id: int
    incident_id: int
    older_incident_id: int
    resolved_id: int
    last_hour_total: int
    posts_by_reach: list[str]
    outside_post: str


@pytest.fixture()
def scenario(env: Env) -> Scenario:
    with env.factory() as session, session.begin():
        source = Source(
            name="rss-main",
            kind="rss",
            created_at=NOW,
            last_success_at=NOW - timedelta(minutes=3),
            consecutive_failures=0,
        )
        failing = Source(
            name="x-stream",
            kind="x",
            created_at=NOW,
            last_error="HTTP 429 Too Many Requests",
            last_error_at=NOW - timedelta(minutes=1),
            consecutive_failures=4,
        )
        session.add_all([source, failing])
        session.flush()
        brand = add_brand(session, "ノロシ珈琲", keywords=["ノロシ珈琲", "Noroshi Coffee"], exclude=["求人"])
        quiet = add_brand(session, "Quiet <Brand>")
        add_buckets(session, brand, NOW - timedelta(hours=30), ONSET, total=2, negative=0)
        add_buckets(session, brand, ONSET, NOW, total=20, negative=12)
        add_buckets(session, quiet, NOW - timedelta(hours=5), NOW, total=1, negative=0)
        session.add(
            DetectorRun(brand_id=brand.id, expected=2.0, upper=5.0, baseline_share=0.12, updated_at=NOW)
        )

        reach = [(5000, 100), (200, 4000), (50_000, 0), (10, 1)]  # (followers, reposts)
        texts = [f"ノロシ珈琲 異物混入 投稿{i}" for i in range(len(reach))]
        for (followers, reposts), text in zip(reach, texts, strict=True):
            add_post(
                session,
                source,
                brand,
                text,
                ONSET + timedelta(minutes=10),
                followers,
                reposts,
                negative=True,
                url="https://example.com/p",
            )
        add_post(
            session,
            source,
            brand,
            "<script>alert(1)</script> ノロシ珈琲 異物混入",
            ONSET + timedelta(minutes=20),
            followers=3,
            url="javascript:alert(2)",
        )
        outside = "ノロシ珈琲 ずっと前の投稿"
        add_post(session, source, brand, outside, ONSET - timedelta(hours=3), followers=10_000_000)
        for i in range(30):  # the day before: ordinary chatter
            add_post(
                session,
                source,
                brand,
                f"ノロシ珈琲 新作ラテ おいしい {i}",
                ONSET - timedelta(hours=5, minutes=i),
            )

        older = add_incident(
            session,
            brand,
            kind="negativity",
            severity="attention",
            started_at=ONSET - timedelta(minutes=30),
            observed=9.0,
            expected=3.0,
        )
        incident = add_incident(session, brand)
        session.add_all(
            [
                IncidentEvent(
                    incident_id=incident.id,
                    at=NOW - timedelta(minutes=50),
                    event="opened",
                    actor="noroshi",
                    detail={},
                ),
                IncidentEvent(
                    incident_id=incident.id,
                    at=NOW - timedelta(minutes=40),
                    event="acknowledge",
                    actor="tanaka@example.com",
                    detail={},
                    note="調査中 <b>広報に連絡</b>",
                ),
            ]
        )
        resolved = add_incident(
            session,
            quiet,
            status="resolved",
            severity="warning",
            started_at=NOW - timedelta(days=2),
            last_signal_at=NOW - timedelta(days=2),
            resolved_at=NOW - timedelta(days=1, hours=20),
        )
        session.flush()
        last_hour = sum(
            b.total
            for b in session.query(Bucket).filter(
                Bucket.brand_id == brand.id, Bucket.start >= NOW - timedelta(hours=1)
            )
        )
        order = sorted(zip(reach, texts, strict=True), key=lambda item: -(item[0][0] + item[0][1]))
        return Scenario(
            brand.id,
            quiet.id,
            incident.id,
            older.id,
            resolved.id,
            last_hour,
            [text for _, text in order],
            outside,
        )


def test_dashboard_lists_brands_status_and_incidents(env: Env, scenario: Scenario) -> None:
    response = env.client.get("/")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="ja">' in html
    assert 'charset="utf-8"' in html
    assert 'name="viewport"' in html
    assert '<meta http-equiv="refresh" content="15">' in html
    row = row_of(html, f'href="/brands/{scenario.brand_id}"', table='class="brands"')
    assert "ノロシ珈琲" in row
    assert "sev-flame" in row and "炎上" in row  # worst of the open incidents (flame > attention)
    assert row.count("<svg") == 2  # volume and negative-share sparklines
    assert f">{scenario.last_hour_total}<" in row
    expected_hour = 2.0 * 60 / 5
    assert f">{expected_hour:.0f}<" in row
    # the quiet brand: escaped name, normal badge
    quiet = row_of(html, f'href="/brands/{scenario.quiet_brand_id}"', table='class="brands"')
    assert "Quiet &lt;Brand&gt;" in quiet and "<Brand>" not in html
    assert "平常" in quiet
    # open incidents newest first, each linking to its page; the resolved one further down
    newest = f'href="/incidents/{scenario.incident_id}"'
    older = f'href="/incidents/{scenario.older_incident_id}"'
    assert newest in html and older in html
    assert html.index(newest) < html.index(older)
    assert html.index(older) < html.index(f'href="/incidents/{scenario.resolved_id}"')
    # source health
    assert "rss-main" in html
    failing = row_of(html, "x-stream", table='class="sources small"')
    assert "HTTP 429" in failing and ">4<" in failing


def test_dashboard_lists_flaring_brands_first(env: Env, scenario: Scenario) -> None:
    html = env.client.get("/").text
    flaring, quiet = f'href="/brands/{scenario.brand_id}"', f'href="/brands/{scenario.quiet_brand_id}"'
    assert html.index(flaring) < html.index(quiet)
    filtered = env.client.get("/", params={"q": "quiet"}).text
    assert f'href="/brands/{scenario.quiet_brand_id}"' in filtered
    brands_table = filtered.split('<table class="brands">')[1].split("</table>")[0]
    assert f'href="/brands/{scenario.brand_id}"' not in brands_table


def test_empty_dashboard_explains_what_to_do(env: Env) -> None:
    response = env.client.get("/")
    assert response.status_code == 200
    assert "まだブランドが登録されていません" in response.text
    assert "No brands yet" in response.text


def test_stylesheet_has_japanese_font_stack(env: Env) -> None:
    response = env.client.get("/static/noroshi.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    for font in ('"Noto Sans CJK JP"', '"Hiragino Sans"', '"Yu Gothic"', "sans-serif"):
        assert font in response.text


def test_incident_page_headline_from_the_data(env: Env, scenario: Scenario) -> None:
    response = env.client.get(f"/incidents/{scenario.incident_id}")
    assert response.status_code == 200
    html = response.text
    with env.factory() as session:
        incident = session.get(Incident, scenario.incident_id)
        assert incident is not None
        assert incident.negative_share is not None and incident.baseline_share is not None
        ratio = f"{incident.observed / incident.expected:g}"
        negative, usual = round(incident.negative_share * 100), round(incident.baseline_share * 100)
        onset = incident.started_at.astimezone(JST).strftime("%H:%M")
    headline = html.split('id="headline">')[1].split("</h1>")[0]
    assert f"通常の{ratio}倍" in headline and f"{onset} JST" in headline
    assert f"否定的な投稿は{negative}%（通常{usual}%）" in headline
    english = env.client.get(f"/incidents/{scenario.incident_id}?lang=en").text
    headline_en = english.split('id="headline">')[1].split("</h1>")[0]
    assert f"{ratio}× the usual level" in headline_en and f"{onset} JST" in headline_en
    assert f"{negative}% are negative (usually {usual}%)" in headline_en
    assert "What to do next" in english and "次にすること" not in english
    assert "sev-flame" in html
    assert "<svg" in html and "viewBox" in html
    # times carry the UTC value on hover
    assert 'title="2024-06-03 05:05:00 UTC"' in html


def test_incident_times_use_the_brand_timezone(env: Env) -> None:
    with env.factory() as session, session.begin():
        brand = add_brand(session, "Beacon Burgers", timezone="America/New_York")
        incident_id = add_incident(session, brand).id
    html = env.client.get(f"/incidents/{incident_id}").text
    local = ONSET.astimezone(zone("America/New_York"))
    assert local.strftime("%H:%M %Z") in html  # e.g. 01:05 EDT
    assert "Beacon Burgersの言及が通常の" in html  # the brand's locale (ja by default)
    assert "Mentions of Beacon Burgers rose to" in env.client.get(f"/incidents/{incident_id}?lang=en").text
    assert ONSET.strftime("%Y-%m-%d %H:%M:%S UTC") in html  # UTC on hover


def test_incident_page_shares_fall_back_to_buckets(env: Env, scenario: Scenario) -> None:
    with env.factory() as session, session.begin():
        brand = session.get(Brand, scenario.brand_id)
        assert brand is not None
        incident = add_incident(
            session, brand, kind="negativity", negative_share=None, baseline_share=None, status="acknowledged"
        )
        incident_id = incident.id
        session.query(DetectorRun).delete()
        active_to = incident.last_signal_at + timedelta(minutes=brand.bucket_minutes)
        rows = session.query(Bucket).filter(Bucket.brand_id == brand.id).all()
        during = [b for b in rows if incident.started_at <= b.start < active_to]
        before = [b for b in rows if incident.started_at - timedelta(days=1) <= b.start < incident.started_at]
    share_during = round(100 * sum(b.negative for b in during) / sum(b.total for b in during))
    share_before = round(100 * sum(b.negative for b in before) / sum(b.total for b in before))
    html = env.client.get(f"/incidents/{incident_id}").text
    assert f"否定的な投稿は{share_during}%（通常{share_before}%）" in html


def test_incident_page_top_posts_by_reach_and_escaping(env: Env, scenario: Scenario) -> None:
    html = env.client.get(f"/incidents/{scenario.incident_id}").text
    positions = [html.index(text) for text in scenario.posts_by_reach]
    assert positions == sorted(positions)
    assert scenario.outside_post not in html  # posted long before the onset
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in html
    assert 'href="https://example.com/p"' in html


def test_incident_page_timeline_and_terms(env: Env, scenario: Scenario) -> None:
    html = env.client.get(f"/incidents/{scenario.incident_id}").text
    timeline = html.split('<ol class="timeline">')[1].split("</ol>")[0]
    assert "検知" in timeline and "確認（担当）" in timeline
    assert timeline.index("検知") < timeline.index("確認（担当）")
    assert "tanaka@example.com" in timeline
    assert "調査中 &lt;b&gt;広報に連絡&lt;/b&gt;" in timeline
    terms = html.split('<ul class="terms"')[1].split("</ul>")[0]
    assert "異物混入" in terms
    for jargon in ("z-score", "log-odds", "p-value", "σ", "NB"):  # plain words for executives
        assert jargon not in html.split("<main>")[1]


def test_unknown_ids_give_a_clear_404(env: Env, scenario: Scenario) -> None:
    for path in ("/incidents/999999", "/incidents/not-a-number", "/brands/424242"):
        response = env.client.get(path)
        assert response.status_code == 404
        assert "見つかりません" in response.text and "Not found" in response.text
        assert "text/html" in response.headers["content-type"]


def test_brand_page(env: Env, scenario: Scenario) -> None:
    response = env.client.get(f"/brands/{scenario.brand_id}")
    assert response.status_code == 200
    html = response.text
    assert "Noroshi Coffee" in html and "求人" in html
    assert "Asia/Tokyo" in html
    assert "<svg" in html
    assert f'href="/incidents/{scenario.incident_id}"' in html
    assert f'href="/incidents/{scenario.older_incident_id}"' in html
    with env.factory() as session:
        week = (
            session.query(Bucket)
            .filter(
                Bucket.brand_id == scenario.brand_id,
                Bucket.start >= bucket_start(NOW, 60) + timedelta(hours=1) - timedelta(days=7),
            )
            .all()
        )
    assert f"{sum(b.total for b in week):,}" in html


def test_dashboard_query_count_does_not_grow_with_brands(env: Env) -> None:
    statements: list[str] = []
    event.listen(env.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))  # type: ignore[arg-type]

    def seed(start: int, count: int) -> None:
        with env.factory() as session, session.begin():
            for i in range(start, start + count):
                brand = add_brand(session, f"brand-{i:04d}")
                add_buckets(session, brand, NOW - timedelta(hours=2), NOW, total=3, negative=1)
                add_incident(session, brand, severity="warning")

    seed(0, 3)
    statements.clear()
    assert env.client.get("/").status_code == 200
    few = len(statements)
    seed(3, 120)
    statements.clear()
    html = env.client.get("/").text
    assert len(statements) == few
    assert "次へ / next" in html  # more brands than one page: paginated
    assert env.client.get("/", params={"page": 2}).status_code == 200


def test_hourly_resampling_sums_the_buckets_in_sql(env: Env, scenario: Scenario) -> None:
    since, until = NOW - timedelta(hours=6), NOW
    with env.factory() as session:
        series = queries.resampled_series(session, [scenario.brand_id], since, until, timedelta(hours=1))
        buckets = (
            session.query(Bucket)
            .filter(Bucket.brand_id == scenario.brand_id, Bucket.start >= since, Bucket.start < until)
            .all()
        )
    expected: dict[datetime, tuple[int, int]] = {}
    for b in buckets:
        hour = bucket_start(b.start, 60)
        total, negative = expected.get(hour, (0, 0))
        expected[hour] = (total + b.total, negative + b.negative)
    assert {p.start: (p.total, p.negative) for p in series[scenario.brand_id]} == expected
    assert len(expected) == 6


def test_top_terms_ranks_an_injected_burst_term_first() -> None:
    baseline = [f"今日のランチはカレー {i}" for i in range(50)] + [
        f"Coffee time with friends {i}" for i in range(50)
    ]
    incident = (
        [f"今日のランチはカレー {i}" for i in range(20)]
        + [f"店舗で食中毒が発生 {i}" for i in range(25)]
        + [f"Coffee time {i}" for i in range(10)]
    )
    ranked = top_terms(incident, baseline, k=5)
    assert ranked, "expected some terms"
    assert "食中毒" in ranked[0][0]
    assert all(a[1] >= b[1] for a, b in pairwise(ranked))
    assert len(ranked) <= 5
    assert top_terms([], baseline) == []


def test_top_terms_latin_words_and_stopwords() -> None:
    incident = ["Boycott the brand now"] * 10 + ["nice latte"] * 5
    baseline = ["nice latte"] * 20
    ranked = top_terms(incident, baseline, k=3)
    assert ranked[0][0] == "boycott"
    assert "the" not in tokenize("the brand")
    assert not {"http", "https"} & tokenize("see https://example.com/x now")


def test_charts_are_self_contained_svg() -> None:
    spark = str(sparkline([1, 3, None, 2], title="a <b> & c"))
    assert spark.startswith("<svg") and "<title>a &lt;b&gt; &amp; c</title>" in spark
    since = NOW - timedelta(hours=3)
    points = [SeriesPoint(since + timedelta(minutes=5 * i), total=i % 7, negative=i % 3) for i in range(36)]
    chart = str(volume_chart(points, since=since, until=NOW, step=timedelta(minutes=5), tz=JST, title="t"))
    assert 'viewBox="0 0 760 260"' in chart and "<title>t</title>" in chart
    assert "<script" not in chart
