"""`noroshi workers`: live workers (recent heartbeat) and the source leases they hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from typer.testing import CliRunner

from noroshi.cli import app
from storage.leases import Worker, claim_source, forget_worker, heartbeat
from tests.helpers import add_source


def test_lists_live_workers_with_their_leases(db_url, factory) -> None:
    now = datetime.now(UTC)  # the command reads the wall clock
    with factory() as session, session.begin():
        feed = add_source(session, "feed", now, kind="replay").id
        add_source(session, "other", now, kind="replay")
        heartbeat(session, "host-a:11:abc", now - timedelta(seconds=5))
        heartbeat(session, "host-b:12:def", now - timedelta(minutes=10))  # silent: presumed dead
        heartbeat(session, "host-old:9:999", now - timedelta(days=2))  # killed long ago
        heartbeat(session, "host-c:13:0f0", now)
        assert claim_source(session, feed, "host-a:11:abc", now, timedelta(minutes=2))
    with factory() as session, session.begin():
        heartbeat(session, "host-c:13:0f0", now)  # a refresh keeps one row
        forget_worker(session, "host-c:13:0f0")  # … and a clean stop removes it
    with factory() as session:
        names = set(session.scalars(select(Worker.name)))
    assert names == {"host-a:11:abc", "host-b:12:def"}  # the day-old row went at the next heartbeat
    result = CliRunner().invoke(app, ["workers"], env={"NOROSHI_DATABASE_URL": db_url})
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("host-a:11:abc") and lines[0].endswith("collecting: feed")
