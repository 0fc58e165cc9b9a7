"""The daily digest from seeded buckets and incidents (both stores): counts, comparisons, TTA/TTR, trend,
and the e-mail through a real SMTP server, sent once per day."""

from __future__ import annotations

import email
import email.policy
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from alerting.channels.mailer import EmailChannel
from alerting.digest import Digest, build_daily_digest, duration_words
from alerting.digest_mail import CLAIM_LEASE, DigestJob, digest_key, recipient_list, send_daily_digest
from storage.idempotency import IdempotencyRecord
from tests.alerting.digest_rows import COMPLETE_NOW, DAY, MIDDAY_NOW, Week, add_week
from tests.alerting.smtp_server import PASSWORD, USER, SmtpServer, smtp_server

TZ = "Asia/Tokyo"
TO = ["pr-lead@example.jp", "cco@example.jp"]


@pytest.fixture
def week(factory) -> Week:  # type: ignore[no-untyped-def]
    with factory() as session, session.begin():
        return add_week(session)


def _digest(factory, now=COMPLETE_NOW, day: date = DAY) -> Digest:  # type: ignore[no-untyped-def]
    with factory() as session:
        return build_daily_digest(session, day, TZ, now, public_url="https://noroshi.example/")


def test_a_complete_day(factory, week: Week) -> None:
    digest = _digest(factory)
    assert digest.complete and digest.start.isoformat() == "2026-11-19T00:00:00+09:00"
    coffee, tea = (
        {b.name: b for b in digest.brands}["ノロシ珈琲"],
        {b.name: b for b in digest.brands}["Noroshi Tea"],
    )
    assert (coffee.total, coffee.negative) == (305, 61)
    assert coffee.last_week == 150
    assert coffee.week_average == pytest.approx((107 + 5 * 100 + 150) / 7)
    assert coffee.usual_share == pytest.approx(70 / 757)
    assert [d.total for d in coffee.trend] == [100, 100, 100, 100, 100, 107, 305]
    assert [d.day for d in coffee.trend] == [DAY - timedelta(days=n) for n in range(6, -1, -1)]
    assert coffee.volume_words.en == "103% more than last Thursday; 182% more than the 7-day average"
    assert coffee.volume_words.ja == "先週の木曜日より103%多い、7日間の平均より182%多い"
    assert coffee.share_words.en == "20% negative (usually 9%)"
    assert coffee.worst_day_of_week and not tea.worst_day_of_week
    assert [i.id for i in coffee.opened] == [week.coffee_flame]
    assert [i.id for i in coffee.resolved] == [week.coffee_flame]
    assert [i.id for i in coffee.still_open] == [week.coffee_neg]
    assert [(i.id, role.en) for i, role in coffee.touched] == [
        (week.coffee_neg, "still open"),
        (week.coffee_flame, "opened and resolved"),
    ]
    assert [b.name for b in digest.brands] == ["ノロシ珈琲", "Noroshi Tea"]  # the flame-up first
    assert tea.volume_words.en == "no mentions all week"
    assert coffee.opened[0].url == f"https://noroshi.example/incidents/{week.coffee_flame}"
    assert coffee.opened[0].headline.ja.startswith("ノロシ珈琲の言及が通常の8倍")
    # acknowledged that day: 12 min (flame) and 150 min (negativity, opened the evening before)
    assert coffee.acknowledge.median == timedelta(minutes=81) and coffee.acknowledge.worst == timedelta(
        minutes=150
    )
    assert coffee.resolve.median == coffee.resolve.worst == timedelta(minutes=100)
    assert (tea.total, tea.trend[-1].total, tea.share_words.en) == (0, 0, "no posts")
    assert tea.acknowledge.count == 0 and tea.resolve.median == timedelta(hours=1)
    assert (digest.opened, digest.resolved, digest.still_open) == (2, 2, 1)
    assert digest.acknowledge.median == timedelta(minutes=81)
    assert digest.resolve.median == timedelta(minutes=80) and digest.resolve.worst == timedelta(minutes=100)
    assert [line.en for line in digest.lines] == [
        "2 incidents opened, 2 resolved, 1 still open",
        "ノロシ珈琲 had its worst day of the week (61 negative posts)",
        "Typical time to acknowledge: 1 h 21 min",
    ]
    assert digest.lines[0].ja == "インシデント：新規2件、解決2件、対応中1件"


def test_today_so_far_is_compared_up_to_the_same_time(factory, week: Week) -> None:
    digest = _digest(factory, now=MIDDAY_NOW)
    coffee = next(b for b in digest.brands if b.brand_id == week.coffee)
    assert not digest.complete and digest.until == MIDDAY_NOW
    assert coffee.total == 205  # 00:00 and 09:00, not 20:00
    assert coffee.last_week == 80  # last Thursday up to noon
    assert coffee.week_average == pytest.approx((6 * 50 + 80) / 7)  # Wednesday's 23:55 is after noon
    assert [d.total for d in coffee.trend] == [50, 50, 50, 50, 50, 50, 205]
    # the tea incident opens at 20:00: not yet
    assert (digest.opened, digest.resolved, digest.still_open) == (1, 1, 1)


def test_a_quiet_day_says_so(factory, week: Week) -> None:
    later = _digest(factory, now=COMPLETE_NOW + timedelta(days=30), day=DAY + timedelta(days=20))
    assert [line.en for line in later.lines] == ["No new incidents; 2 still open"]
    assert later.lines[0].ja == "新しいインシデントはありません（対応中2件）"
    coffee = next(b for b in later.brands if b.brand_id == week.coffee)
    assert coffee.total == 0 and coffee.volume_words.en == "no mentions all week"
    earlier = _digest(factory, day=DAY - timedelta(days=20))
    assert [line.en for line in earlier.lines] == ["No incidents"]


def test_duration_words() -> None:
    assert duration_words(timedelta(minutes=100)).ja == "1時間40分"
    assert duration_words(timedelta(days=2, hours=3, minutes=5)).en == "2 d 3 h"
    assert (
        duration_words(timedelta(hours=1)).en == "1 h" and duration_words(timedelta(seconds=40)).ja == "1分"
    )
    assert duration_words(None).en == "—"


# --- e-mail -----------------------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    with smtp_server(tmp_path) as running:
        yield running


def _mailer(server: SmtpServer, port: int | None = None, password: str = PASSWORD) -> EmailChannel:
    return EmailChannel(
        "127.0.0.1", port or server.port, sender="Noroshi 狼煙 <noroshi@alerts.example.jp>", username=USER,
        password=password, security="starttls", tls_context=server.client_tls, timeout=5,
    )  # fmt: skip


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_digest_mail_is_sent_once_with_japanese_subject_and_brand_rows(factory, week: Week, server) -> None:
    job = DigestJob(factory, _mailer(server), TO, tz=TZ, hour=9, public_url="https://noroshi.example")
    before = job.run(COMPLETE_NOW.replace(hour=8, minute=59) + timedelta(days=0))  # 08:59 JST on the 20th
    assert before.outcome == "not_yet" and not server.handler.messages
    first = job.run(COMPLETE_NOW.replace(hour=9, minute=1))
    again = job.run(COMPLETE_NOW.replace(hour=10))
    assert (first.outcome, first.day, again.outcome) == ("sent", DAY, "already_sent")
    [received] = server.handler.messages
    assert sorted(received.rcpt_tos) == sorted(TO) and received.tls
    message = _parse(received.content)
    assert str(message["Subject"]) == (
        "【狼煙】日次ダイジェスト 11月19日（木）：新規2件・解決2件"
        " / Daily digest Thu 2026-11-19: 2 opened, 2 resolved"
    )
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert html.count('class="brand-row"') == 4  # two brands, once in Japanese and once in English
    assert "<b>ノロシ珈琲</b>" in html and "<b>Noroshi Tea</b>" in html
    assert f'href="https://noroshi.example/incidents/{week.coffee_flame}"' in html
    assert "インシデント：新規2件、解決2件、対応中1件" in text and "2 incidents opened, 2 resolved" in text
    assert "ノロシ珈琲は今週で最も否定的な投稿が多い一日でした（61件）" in html
    with factory() as session:
        record = session.scalars(select(IdempotencyRecord)).one()
    assert record.idempotency_key == digest_key(DAY, TO) and record.status_code == 250
    assert message["Message-ID"] in (record.response_body or "")


def test_a_failed_send_is_retried_by_the_next_run(factory, week: Week, server, tmp_path: Path) -> None:
    from tests.alerting.smtp_server import free_port

    down = send_daily_digest(factory, _mailer(server, port=free_port()), TO, DAY, COMPLETE_NOW, tz=TZ)
    assert down.outcome == "failed" and down.error
    with factory() as session:
        assert session.scalars(select(IdempotencyRecord)).first() is None  # the claim was released
    assert send_daily_digest(factory, _mailer(server), TO, DAY, COMPLETE_NOW, tz=TZ).outcome == "sent"
    assert len(server.handler.messages) == 1


def test_a_crashed_senders_claim_is_taken_over_after_the_lease(factory, week: Week, server) -> None:
    key = digest_key(DAY, TO)
    with factory() as session, session.begin():
        session.add(
            IdempotencyRecord(
                owner="digest", idempotency_key=key, method_path="digest:daily", request_hash="x",
                status_code=None, response_body=None, created_at=COMPLETE_NOW,
            )
        )  # fmt: skip
    soon = send_daily_digest(factory, _mailer(server), TO, DAY, COMPLETE_NOW + CLAIM_LEASE / 2, tz=TZ)
    assert soon.outcome == "in_progress" and not server.handler.messages
    later = send_daily_digest(factory, _mailer(server), TO, DAY, COMPLETE_NOW + CLAIM_LEASE * 2, tz=TZ)
    assert later.outcome == "sent" and len(server.handler.messages) == 1
    # a different recipient list is a different digest
    other = send_daily_digest(factory, _mailer(server), ["ops@example.jp"], DAY, COMPLETE_NOW, tz=TZ)
    assert other.outcome == "sent" and len(server.handler.messages) == 2


def test_recipients_fall_back_and_none_means_no_mail(factory, week: Week, server) -> None:
    assert recipient_list(None, " a@example.jp, b@example.jp ,") == ["a@example.jp", "b@example.jp"]
    assert recipient_list("d@example.jp", "e@example.jp") == ["d@example.jp"]
    job = DigestJob(factory, _mailer(server), recipient_list(None, ""), tz=TZ)
    assert job.run(COMPLETE_NOW.replace(hour=10)).outcome == "no_recipients"
    assert not server.handler.messages


def test_a_permanent_failure_is_not_retried_all_day(factory, week: Week, server) -> None:
    wrong = _mailer(server, password="wrong-password")
    first = send_daily_digest(factory, wrong, TO, DAY, COMPLETE_NOW, tz=TZ)
    assert first.outcome == "dead" and first.error and "wrong-password" not in first.error
    logins_after_first = len(server.handler.logins)
    again = send_daily_digest(factory, _mailer(server), TO, DAY, COMPLETE_NOW + timedelta(hours=1), tz=TZ)
    assert again.outcome == "dead" and not server.handler.messages
    assert len(server.handler.logins) == logins_after_first  # no second attempt at all


def test_digest_settings_are_checked() -> None:
    from pydantic import ValidationError

    from noroshi.settings import Settings

    with pytest.raises(ValidationError, match="unknown timezone 'Mars/Base'"):
        Settings(digest_timezone="Mars/Base")
    with pytest.raises(ValidationError, match="digest_hour"):
        Settings(digest_hour=24)
    defaults = Settings()
    assert (defaults.digest_hour, defaults.retention_days, defaults.digest_timezone) == (9, 90, "Asia/Tokyo")
