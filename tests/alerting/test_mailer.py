"""E-mail against a real SMTP server (aiosmtpd, STARTTLS + AUTH, and implicit TLS) on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import logging
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from alerting.channels.base import OutgoingNotification
from alerting.channels.mailer import EmailChannel
from alerting.summary import build_incident_context
from storage.engine import make_engine, make_session_factory
from storage.migrations import upgrade
from storage.models import Incident
from tests.alerting.incident_rows import BRAND, NOW, add_flame
from tests.alerting.smtp_server import PASSWORD, USER, SmtpServer, free_port, smtp_server

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TO = "crisis@example.jp, 役員 <ceo@example.jp>"


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A context from real rows (SQLite; the PostgreSQL path of the summary is covered in test_summary)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('mail') / 'n.db'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        incident_id = add_flame(session).incident_id
    with factory() as session:
        built = build_incident_context(session, session.get(Incident, incident_id), "https://n.example", NOW)
    engine.dispose()
    return built


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    with smtp_server(tmp_path) as running:
        yield running


def channel(server: SmtpServer, password: str = PASSWORD, security: str = "starttls") -> EmailChannel:
    return EmailChannel(
        "127.0.0.1",
        server.port,
        sender="Noroshi 狼煙 <noroshi@alerts.example.jp>",
        username=USER,
        password=password,
        security=security,  # type: ignore[arg-type]
        tls_context=server.client_tls,
        clock=lambda: NOW,
        timeout=5,
    )


def note(
    context: dict[str, Any], event: str = "triggered", state: dict[str, Any] | None = None
) -> OutgoingNotification:
    return OutgoingNotification(
        notification_id=1,
        incident_id=context["incident"]["id"],
        channel="email",
        target=TO,
        event=event,
        idempotency_key=f"incident:{context['incident']['id']}:email:{TO}:{event}:1",
        attempt=1,
        context=context,
        state=state or {},
    )


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_incident_mail_structure_japanese_chart_and_runbook(
    server: SmtpServer, context: dict[str, Any]
) -> None:
    result = channel(server).deliver(note(context))
    assert result.ok, result.error
    [received] = server.handler.messages
    assert received.tls and received.authenticated and server.handler.logins == [USER]
    assert received.rcpt_tos == ["crisis@example.jp", "ceo@example.jp"]
    assert received.mail_from == "noroshi@alerts.example.jp"

    raw_headers = received.content.split(b"\r\n\r\n", 1)[0]
    assert b"Subject: =?utf-8?" in raw_headers  # RFC 2047, not raw UTF-8 on the wire
    message = parse(received.content)
    assert message["Subject"] == f"【炎上】{BRAND}: 言及が通常の8倍 / Flame-up: {BRAND} mentions 8× usual"
    assert message.get_content_type() == "multipart/mixed"
    alternative, markdown_part, html_part = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    text, related = alternative.iter_parts()
    assert text.get_content_type() == "text/plain" and related.get_content_type() == "multipart/related"
    html, image = related.iter_parts()

    body = text.get_content()
    assert context["headline"]["ja"] in body and context["headline"]["en"] in body
    assert "1. 事実を確認する" in body and "big_account" in body
    html_text = html.get_content()
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html_text
    assert image.get_content_type() == "image/png" and image.get_content().startswith(PNG_MAGIC)
    assert "広報で確認中 &lt;b&gt;" in html_text  # a timeline note is escaped, not markup
    assert 'href="javascript:' not in html_text

    id_ = context["incident"]["id"]
    assert markdown_part.get_filename() == f"runbook-{id_}.ja.md"
    assert markdown_part.get_content_type() == "text/markdown"
    assert markdown_part.get_content().startswith(f"# 炎上: {BRAND}")
    assert html_part.get_filename() == f"runbook-{id_}.ja.html"
    assert "<h2>まず最初に</h2>" in html_part.get_content()

    assert result.state is not None and result.state["message_id"] == message["Message-ID"]


def test_follow_up_mail_threads_under_the_first(server: SmtpServer, context: dict[str, Any]) -> None:
    mailer = channel(server)
    first = mailer.deliver(note(context))
    acked = {**context, "actor": "佐藤", "incident": {**context["incident"], "status": "acknowledged"}}
    second = mailer.deliver(note(acked, "acknowledged", first.state))
    third = mailer.deliver(note(acked, "resolved", second.state))
    assert first.ok and second.ok and third.ok
    one, two, three = (parse(m.content) for m in server.handler.messages)
    assert two["In-Reply-To"] == one["Message-ID"]
    assert two["References"] == one["Message-ID"]
    assert three["In-Reply-To"] == two["Message-ID"]
    assert three["References"].split() == [one["Message-ID"], two["Message-ID"]]
    assert two["Subject"] == "Re: " + one["Subject"]
    assert len({one["Message-ID"], two["Message-ID"], three["Message-ID"]}) == 3
    assert "対応が始まりました" in two.get_body(("plain",)).get_content()
    assert "佐藤" in two.get_body(("plain",)).get_content()


def test_retry_of_one_notification_keeps_its_message_id(server: SmtpServer, context: dict[str, Any]) -> None:
    mailer = channel(server)
    mailer.deliver(note(context))
    mailer.deliver(note(context))  # the outbox retried after a crash between send and commit
    first, again = (parse(m.content) for m in server.handler.messages)
    assert first["Message-ID"] == again["Message-ID"]  # receivers can drop the duplicate


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls(tmp_path: Path, context: dict[str, Any]) -> None:
    with smtp_server(tmp_path, implicit_tls=True) as tls_server:
        result = channel(tls_server, security="ssl").deliver(note(context))
        assert result.ok, result.error
        assert tls_server.handler.messages[0].tls


def test_wrong_password_is_permanent_and_never_logged(
    server: SmtpServer, context: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    mailer = channel(server, password="wrong-Secret-42")
    result = mailer.deliver(note(context))
    assert not result.ok and result.permanent
    assert "535" in (result.error or "")
    assert "wrong-Secret-42" not in (result.error or "") + caplog.text + repr(mailer)
    assert server.handler.messages == []


@pytest.mark.parametrize(
    ("reply", "permanent"), [("451 4.3.0 mailbox busy", False), ("550 5.1.1 no such user", True)]
)
def test_refused_recipients(server: SmtpServer, context: dict[str, Any], reply: str, permanent: bool) -> None:
    server.handler.rcpt_reply = reply
    result = channel(server).deliver(note(context))
    assert not result.ok and result.permanent is permanent
    assert reply[:3] in (result.error or "")


def test_unreachable_server_is_retried(context: dict[str, Any], tmp_path: Path) -> None:
    mailer = EmailChannel(
        "127.0.0.1", free_port(), sender="noroshi@alerts.example.jp", timeout=2, clock=lambda: NOW
    )
    result = mailer.deliver(note(context))
    assert not result.ok and not result.permanent


def test_bad_target_is_permanent(server: SmtpServer, context: dict[str, Any]) -> None:
    bad = OutgoingNotification(1, 1, "email", "not an address", "triggered", "k", 1, context)
    result = channel(server).deliver(bad)
    assert not result.ok and result.permanent and "not an address" in (result.error or "")
