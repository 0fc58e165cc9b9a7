"""The daily digest by e-mail: one bilingual message a day, sent at most once per day and recipients.

The message is multipart/alternative (text/plain + text/html, UTF-8, Japanese first then English);
the 7-day trend is drawn as HTML bars, which every mail client shows without loading images.

Sending reuses the e-mail channel's transport (`EmailChannel.send_message`: STARTTLS/TLS, AUTH, the
permanent/retry error table). "At most once" is a claim in `idempotency_records` (owner "digest",
key day × recipients), inserted before sending: the unique key lets only one worker send, a failed
send deletes the claim so the next run retries, and a claim left by a crashed worker is taken over
after CLAIM_LEASE. The Message-ID is derived from the key, so the one repeat a crash can cause
(after the server accepted, before the claim was marked) is recognisable by receivers.

The incident outbox is not used: its rows belong to one incident (`notifications.incident_id` is
required), and a digest is about every brand.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker

from alerting.channels.mail_message import mail_templates, message_id_for, parse_recipients, set_bodies
from alerting.channels.mailer import EmailChannel
from alerting.digest import WEEKDAYS, Digest, build_daily_digest, duration_words, local_today
from alerting.presentation import zone
from storage.engine import transaction
from storage.idempotency import IdempotencyRecord, find_record
from storage.upsert import insert_ignore

HERE = Path(__file__).resolve().parent
OWNER = "digest"
CLAIM_LEASE = timedelta(minutes=10)
SENT = 250  # the SMTP "accepted" code, stored as the claim's status
DEAD = 550  # a permanent failure (bad address, refused login): not retried that day, a human must look

Outcome = Literal["sent", "already_sent", "in_progress", "failed", "dead", "not_yet", "no_recipients"]
FINAL: dict[int, Outcome] = {SENT: "already_sent", DEAD: "dead"}  # claims never retried that day

_env = mail_templates(HERE)


def recipient_list(*raw: str | None) -> list[str]:
    """The first non-empty comma-separated list (NOROSHI_DIGEST_TO, then NOROSHI_EMAIL_TO)."""
    for value in raw:
        addresses = [a.strip() for a in (value or "").split(",") if a.strip()]
        if addresses:
            return addresses
    return []


def digest_key(day: date, recipients: Sequence[str]) -> str:
    who = hashlib.sha256(",".join(sorted(a.lower() for a in recipients)).encode()).hexdigest()[:16]
    return f"daily:{day.isoformat()}:{who}"


def subject(digest: Digest) -> str:
    """'【狼煙】日次ダイジェスト 11月19日（木）：新規2件・解決2件 / Daily digest Thu 2026-11-19: …'."""
    ja_day = WEEKDAYS[digest.day.weekday()][0][0]
    d = digest.day
    counts = f"新規{digest.opened}件・解決{digest.resolved}件"
    ja = f"【狼煙】日次ダイジェスト {d.month}月{d.day}日（{ja_day}）：{counts}"
    en = f"Daily digest {d:%a %Y-%m-%d}: {digest.opened} opened, {digest.resolved} resolved"
    return f"{ja} / {en}"


def _bars(digest: Digest) -> dict[int, list[tuple[str, int, int]]]:
    """Per brand: (mm/dd, count, bar width in px out of 80) for the HTML trend."""
    bars = {}
    for brand in digest.brands:
        top = max((d.total for d in brand.trend), default=0) or 1
        bars[brand.brand_id] = [(f"{d.day:%m/%d}", d.total, round(80 * d.total / top)) for d in brand.trend]
    return bars


def build_digest_message(
    digest: Digest, sender: str, recipients: Sequence[str], key: str, now: datetime
) -> EmailMessage:
    addresses = parse_recipients(", ".join(recipients))
    domain = parse_recipients(sender)[0].rsplit("@", 1)[1]
    message = EmailMessage()
    message["Subject"] = subject(digest)
    message["From"] = sender
    message["To"] = ", ".join(addresses)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id_for(key, domain)
    message["X-Noroshi-Digest"] = digest.day.isoformat()
    values = {
        "digest": digest,
        "bars": _bars(digest),
        "duration": lambda value, lang: duration_words(value).pick(lang),
        "langs": ("ja", "en"),
    }
    set_bodies(message, _env, "digest_mail", values)
    return message


def _claim(factory: sessionmaker[Session], key: str, now: datetime) -> Outcome | None:
    """Take the day's claim; None when we hold it, else why not to send."""
    row = {
        "owner": OWNER,
        "idempotency_key": key,
        "method_path": "digest:daily",
        "request_hash": hashlib.sha256(key.encode()).hexdigest(),
        "status_code": None,
        "response_body": None,
        "created_at": now,
    }
    with transaction(factory) as session:
        if insert_ignore(session, IdempotencyRecord.__table__, [row], ["owner", "idempotency_key"], ["id"]):
            return None
        existing = find_record(session, OWNER, key)
        if existing is None:  # pruned between the two statements: try again next run
            return "in_progress"
        if existing.status_code in FINAL:
            return FINAL[existing.status_code]
        if existing.created_at > now - CLAIM_LEASE:
            return "in_progress"
        # A crashed sender's claim: take it over only if nobody else did in the meantime.
        taken = session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.id == existing.id, IdempotencyRecord.created_at == existing.created_at)
            .values(created_at=now)
        )
        return None if getattr(taken, "rowcount", 0) == 1 else "in_progress"


def _finish(
    factory: sessionmaker[Session], key: str, status: int | None, detail: dict[str, str | None]
) -> None:
    """Record SENT or DEAD on the claim; None releases it so the next run tries again."""
    where = (IdempotencyRecord.owner == OWNER) & (IdempotencyRecord.idempotency_key == key)
    with transaction(factory) as session:
        if status is None:
            session.execute(delete(IdempotencyRecord).where(where))
            return
        body = json.dumps(detail, ensure_ascii=False)
        session.execute(update(IdempotencyRecord).where(where).values(status_code=status, response_body=body))


@dataclass(frozen=True, slots=True)
class DigestSend:
    outcome: Outcome
    day: date
    error: str | None = None


def send_daily_digest(
    factory: sessionmaker[Session],
    mailer: EmailChannel,
    recipients: Sequence[str],
    day: date,
    now: datetime,
    *,
    tz: str = "Asia/Tokyo",
    public_url: str = "",
) -> DigestSend:
    """Build and send the digest of `day` once for these recipients (a second call is a no-op)."""
    if not recipients:
        return DigestSend("no_recipients", day)
    key = digest_key(day, recipients)
    refused = _claim(factory, key, now)
    if refused is not None:
        return DigestSend(refused, day)
    try:
        with factory() as session:
            digest = build_daily_digest(session, day, tz, now, public_url=public_url)
        message = build_digest_message(digest, mailer.sender, recipients, key, now)
    except Exception:
        _finish(factory, key, None, {})
        raise
    result = mailer.send_message(message, parse_recipients(", ".join(recipients)))
    status = SENT if result.ok else (DEAD if result.permanent else None)
    _finish(factory, key, status, {"message_id": message["Message-ID"], "error": result.error})
    outcome: Outcome = "sent" if result.ok else ("dead" if result.permanent else "failed")
    return DigestSend(outcome, day, None if result.ok else result.error)


@dataclass
class DigestJob:
    """The scheduled job: from NOROSHI_DIGEST_HOUR (local time) on, send yesterday's digest once.

    Yesterday's, because a morning e-mail about a day that has barely started says nothing; the page
    shows today so far. Run it every few minutes: before the hour, or once sent, it does nothing.
    """

    factory: sessionmaker[Session]
    mailer: EmailChannel
    recipients: list[str]
    tz: str = "Asia/Tokyo"
    hour: int = 9
    public_url: str = ""

    def run(self, now: datetime) -> DigestSend:
        today = local_today(now, self.tz)
        if now.astimezone(zone(self.tz)).hour < self.hour:
            return DigestSend("not_yet", today - timedelta(days=1))
        return send_daily_digest(
            self.factory,
            self.mailer,
            self.recipients,
            today - timedelta(days=1),
            now,
            tz=self.tz,
            public_url=self.public_url,
        )
