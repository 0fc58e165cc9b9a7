"""Kill the worker (SIGKILL) between the incident commit and the send; on restart exactly one Slack card
(slack-sdk against the local Slack Web API server) and one e-mail (aiosmtpd) arrive.

The killed worker is a real process (tests/alerting/crash_worker.py); the restarted worker runs in the
test process, which saves a second interpreter start."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from alerting.channels.mailer import EmailChannel
from alerting.channels.slack import SlackChannel
from alerting.notify import Notifier, NotifyConfig
from alerting.outbox import OutboxWorker
from alerting.summary import build_incident_context
from alerting.tick import DetectionTicker
from storage.incidents import Incident
from storage.notifications import Notification, NotificationRoute
from storage.timebuckets import bucket_start
from tests.alerting.crash_worker import TOKEN
from tests.alerting.delivery_kit import add_brand
from tests.alerting.test_tick import _day_with_flare, _fill
from tests.fakes.slack_api import FakeSlack

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(channels=("C0INCIDENTS",)) as fake:
        yield fake


def _spawn(
    db_url: str, slack: FakeSlack, smtp_port: int, now, mode: str, skew: float = 0
) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    args = [db_url, slack.api_url, str(smtp_port), now.isoformat(), mode, str(skew)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.alerting.crash_worker", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(process: subprocess.Popen[str], word: str) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(word):
            return line.strip()
    process.wait(timeout=30)
    raise AssertionError(f"worker exited before {word}: {process.stderr.read() if process.stderr else ''}")


# Each run starts an interpreter and a day of detection (~10 s on 2 busy cores), so each database gets
# one of the two crash points: killed with the rows pending (SQLite) or claimed mid-send (PostgreSQL).
CRASH_POINT = {"sqlite": "after-commit", "postgresql": "after-claim"}


@pytest.mark.parametrize("mode", ["after-commit", "after-claim"])
def test_a_killed_worker_loses_nothing_and_sends_nothing_twice(
    db_url, factory, now, slack, smtp, mode
) -> None:
    if CRASH_POINT[db_url.split(":")[0].split("+")[0]] != mode and not os.environ.get("NOROSHI_CRASH_ALL"):
        pytest.skip("the other crash point runs on the other database (NOROSHI_CRASH_ALL=1 runs both)")
    inbox, smtp_port = smtp
    start = bucket_start(now - timedelta(days=1), 5)
    with factory() as session, session.begin():
        brand = add_brand(session, now).id
        _fill(session, brand, start, _day_with_flare(random.Random(7), flare_at=250))
        for channel, target in (("slack", "C0INCIDENTS"), ("email", "危機対応チーム <crisis@example.jp>")):
            session.add(NotificationRoute(channel=channel, target=target, created_at=now))

    first = _spawn(db_url, slack, smtp_port, now, mode)
    committed = _wait_for(first, "COMMITTED")
    if mode == "after-claim":
        assert _wait_for(first, "CLAIMED") == "CLAIMED 2"
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL
    assert committed == "COMMITTED 2"  # one incident paged (the volume one is inhibited): card + e-mail
    assert slack.calls_to("chat.postMessage") == [] and inbox.messages == []
    with factory() as session:
        statuses = sorted(session.scalars(select(Notification.status)))
        assert statuses == (["pending"] * 2 if mode == "after-commit" else ["sending"] * 2)
        due = max(session.scalars(select(Notification.next_attempt_at)))  # the dead worker's lease end

    # The restart (a fresh worker, here in the test process) runs once the dead worker's lease is over.
    def later() -> datetime:
        return due + timedelta(seconds=1)

    notifier = Notifier(build_incident_context, NotifyConfig("https://noroshi.example.jp"))
    assert (
        DetectionTicker(factory, auto_resolve=timedelta(hours=2), notifier=notifier)
        .tick(later())
        .notifications
        == []
    )
    channels = {
        "slack": SlackChannel(TOKEN, base_url=slack.api_url),
        "email": EmailChannel("127.0.0.1", smtp_port, sender="Noroshi <noroshi@example.jp>", security="none"),
    }
    report = OutboxWorker(factory, channels, later).run_once()
    assert (len(report.sent), report.retried, report.dead) == (2, [], [])
    assert OutboxWorker(factory, channels, later).run_once().handled == 0

    posts = slack.calls_to("chat.postMessage")
    assert len(posts) == 1 and posts[0].body["channel"] == "C0INCIDENTS"
    assert len(inbox.messages) == 1 and inbox.messages[0].rcpt_tos == ["crisis@example.jp"]
    with factory() as session:
        rows = session.scalars(select(Notification)).all()
        flame = session.scalars(select(Incident).where(Incident.kind == "negativity")).one()
        assert {(r.channel, r.status, r.incident_id) for r in rows} == {
            ("slack", "sent", flame.id),
            ("email", "sent", flame.id),
        }
        assert all(r.attempts == (1 if mode == "after-commit" else 2) for r in rows)
