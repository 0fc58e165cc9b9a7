"""A worker process for the crash test: tick (commits the incident and its outbox rows), then either
stop right there, or claim the rows and stop before sending, or deliver. The test SIGKILLs it while
it stops. Usage: python -m tests.alerting.crash_worker DB_URL SLACK_API_URL SMTP_PORT NOW MODE [SKEW_S]
MODE: after-commit | after-claim | deliver."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta

from alerting.channels.mailer import EmailChannel
from alerting.channels.slack import SlackChannel
from alerting.notify import Notifier, NotifyConfig
from alerting.outbox import DeliveryConfig, OutboxWorker
from alerting.summary import build_incident_context
from alerting.tick import DetectionTicker
from storage.engine import make_engine, make_session_factory

TOKEN = "xoxb-test-token"
LEASE_SECONDS = 5.0


def main(db_url: str, slack_url: str, smtp_port: str, now_iso: str, mode: str, skew: str = "0") -> None:
    started = time.monotonic()
    base = datetime.fromisoformat(now_iso) + timedelta(seconds=float(skew))

    def clock() -> datetime:
        return base + timedelta(seconds=time.monotonic() - started)

    factory = make_session_factory(make_engine(db_url))
    notifier = Notifier(build_incident_context, NotifyConfig("https://noroshi.example.jp"))
    summary = DetectionTicker(factory, auto_resolve=timedelta(hours=2), notifier=notifier).tick(clock())
    print(f"COMMITTED {len(summary.notifications)}", flush=True)
    channels = {
        "slack": SlackChannel(TOKEN, base_url=slack_url),
        "email": EmailChannel(
            "127.0.0.1", int(smtp_port), sender="Noroshi <noroshi@example.jp>", security="none"
        ),
    }
    worker = OutboxWorker(factory, channels, clock, DeliveryConfig(lease_seconds=LEASE_SECONDS))
    if mode == "after-claim":
        print(f"CLAIMED {len(worker.claim(50))}", flush=True)
    if mode in ("after-commit", "after-claim"):
        time.sleep(600)  # the test kills us here, before anything is sent
        return
    report = worker.run_once()
    print(f"SENT {len(report.sent)} RETRIED {len(report.retried)} DEAD {len(report.dead)}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
