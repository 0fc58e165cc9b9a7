"""Coordination between `noroshi worker` processes sharing one database.

Sources are leased: a worker claims a source with one conditional UPDATE (free, expired or already its
own lease), holds the lease across fetch and ingest, and releases it in the ingest commit. A worker
that dies keeps its lease until `lease_expires_at`; then any other worker may claim the source. The
conditional UPDATE is atomic on PostgreSQL (a concurrent claimer re-checks the WHERE after the first
commits) and on SQLite (one writer at a time), so no lock is held while the network is slow.

Workers also write a heartbeat row, so operators can see which workers are alive.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, delete, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.base import Base
from storage.sources import Source
from storage.upsert import upsert_set

FORGET_AFTER = timedelta(days=1)


class Worker(Base):
    """A worker process's heartbeat; `name` is hostname:pid:random, unique per process start."""

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime]


def worker_identity() -> str:
    """hostname:pid:random — the random part tells a restarted process (same pid) from its predecessor."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def claim_source(
    session: Session,
    source_id: int,
    owner: str,
    now: datetime,
    lease: timedelta,
    min_gap: timedelta | None = None,
) -> bool:
    """Take the source's lease if it is due and nobody else holds a live lease. `min_gap`: skip a
    source that some worker ran less than this long ago (every worker schedules every source)."""
    conditions = [
        Source.id == source_id,
        Source.enabled.is_(True),
        Source.exhausted.is_(False),
        or_(Source.next_run_at.is_(None), Source.next_run_at <= now),
        or_(Source.lease_owner.is_(None), Source.lease_owner == owner, Source.lease_expires_at <= now),
    ]
    if min_gap is not None:
        conditions.append(or_(Source.last_run_at.is_(None), Source.last_run_at <= now - min_gap))
    result = session.execute(
        update(Source)
        .where(*conditions)
        .values(lease_owner=owner, lease_expires_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def holds_lease(source: Source, owner: str) -> bool:
    """Whether `owner` may still write the source's cursor. An expired lease nobody took is still
    ours: only a different owner in the row means another worker has taken over."""
    return source.lease_owner == owner


def release(source: Source) -> None:
    source.lease_owner = None
    source.lease_expires_at = None


def heartbeat(session: Session, name: str, now: datetime) -> None:
    """Insert or refresh this worker's row; rows of workers silent for a day (killed) are dropped."""
    host, pid, _ = name.rsplit(":", 2)
    row = {"name": name, "hostname": host, "pid": int(pid), "started_at": now, "seen_at": now}
    upsert_set(session, Worker.__table__, [row], ["name"], ["seen_at"])
    session.execute(delete(Worker).where(Worker.seen_at < now - FORGET_AFTER))


def live_workers(session: Session, now: datetime, within: timedelta) -> list[Worker]:
    return list(session.scalars(select(Worker).where(Worker.seen_at > now - within).order_by(Worker.name)))


def forget_worker(session: Session, name: str) -> None:
    """A worker that stops cleanly removes its row (and frees nothing else: its leases are released
    as its runs finish)."""
    session.execute(delete(Worker).where(Worker.name == name))
