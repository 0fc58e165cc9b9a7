"""E-mail over SMTP (STARTTLS, implicit TLS or plain; optional AUTH) with aiosmtplib.

The delivery loop is synchronous, so each send runs the async client in its own short event loop
(in a helper thread if the caller already runs one). SMTP replies map to the outbox's outcomes in one
table: authentication failures and 5xx are permanent (dead-letter, a human must fix config or the
address), connection problems, timeouts and 4xx are retried. The password never appears in logs,
reprs or error strings.
"""

from __future__ import annotations

import asyncio
import email.policy
import logging
import ssl
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any, ClassVar, Literal

import aiosmtplib

from alerting.channels.base import DeliveryResult, OutgoingNotification
from alerting.channels.mail_message import EmailAddressError, build_message
from alerting.charts import chart_from_context

log = logging.getLogger(__name__)
Security = Literal["starttls", "ssl", "none"]


def _response_code(exc: BaseException) -> int | None:
    return getattr(exc, "code", None) if isinstance(exc, aiosmtplib.SMTPResponseException) else None


# First matching row decides: (exception type, predicate on it, permanent?). Order matters: the
# specific classes come before their bases.
ERROR_TABLE: tuple[tuple[type[BaseException], Callable[[BaseException], bool], bool], ...] = (
    (aiosmtplib.SMTPAuthenticationError, lambda e: True, True),
    (aiosmtplib.SMTPNotSupported, lambda e: True, True),  # e.g. no STARTTLS/AUTH on the server
    (aiosmtplib.SMTPRecipientsRefused, lambda e: all(r.code >= 500 for r in e.recipients), True),  # type: ignore[attr-defined]
    (aiosmtplib.SMTPRecipientsRefused, lambda e: True, False),
    (aiosmtplib.SMTPResponseException, lambda e: (_response_code(e) or 0) >= 500, True),
    (aiosmtplib.SMTPResponseException, lambda e: True, False),  # 4xx: try again later
    (ssl.SSLCertVerificationError, lambda e: True, True),
    # aiosmtplib says 'The SMTP AUTH extension is not supported' with a bare SMTPException: configuration
    (aiosmtplib.SMTPException, lambda e: "not supported" in str(e), True),
    (aiosmtplib.SMTPException, lambda e: True, False),  # disconnects, timeouts, connect errors
    (OSError, lambda e: True, False),
)


def classify(exc: BaseException) -> bool:
    """True if retrying cannot help."""
    return next(
        (permanent for kind, test, permanent in ERROR_TABLE if isinstance(exc, kind) and test(exc)), False
    )


def _describe(exc: BaseException) -> str:
    code = _response_code(exc)
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"SMTP {type(exc).__name__}" + (f" {code}" if code else "") + f": {text}"[:500]


def _run(coroutine_factory: Callable[[], Any]) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine_factory())
    with ThreadPoolExecutor(max_workers=1) as pool:  # called from inside an event loop
        return pool.submit(lambda: asyncio.run(coroutine_factory())).result()


class EmailChannel:
    kind: ClassVar[str] = "email"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        security: Security = "starttls",
        timeout: float = 20.0,
        tls_context: ssl.SSLContext | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        chart: Callable[[Mapping[str, Any]], bytes] = chart_from_context,
    ) -> None:
        if security not in ("starttls", "ssl", "none"):
            raise ValueError(f"security must be starttls, ssl or none, not {security!r}")
        self.host, self.port, self.sender = host, port, sender
        self.username, self._password = username, password
        self.security, self.timeout, self.tls_context = security, timeout, tls_context
        self.clock, self.chart = clock, chart

    def __repr__(self) -> str:  # never the password
        where = f"host={self.host!r}, port={self.port}, security={self.security!r}"
        return f"EmailChannel({where}, user={self.username!r})"

    async def _send(self, message: bytes, recipients: list[str]) -> tuple[dict[str, Any], str]:
        return await aiosmtplib.send(
            message,
            sender=parseaddr(self.sender)[1],  # the envelope wants the bare address
            recipients=recipients,
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self._password,
            use_tls=self.security == "ssl",
            start_tls=self.security == "starttls",
            tls_context=self.tls_context,
            timeout=self.timeout,
        )

    def send_message(self, message: EmailMessage, recipients: list[str]) -> DeliveryResult:
        """Send a message built elsewhere (the daily digest) with this channel's transport and error table."""
        try:
            wire = message.as_bytes(policy=email.policy.SMTP)
            refused, _ = _run(lambda: self._send(wire, recipients))
        except Exception as exc:
            permanent = classify(exc)
            log.warning("e-mail %s failed (%s): %s", message["Message-ID"], permanent, _describe(exc))
            return DeliveryResult(ok=False, permanent=permanent, error=_describe(exc))
        error = f"refused by the server: {', '.join(sorted(refused))}" if refused else None
        return DeliveryResult(ok=True, error=error)

    def deliver(self, notification: OutgoingNotification) -> DeliveryResult:
        try:
            built = build_message(notification, self.sender, self.clock(), self.chart)
        except (EmailAddressError, KeyError) as exc:
            return DeliveryResult(ok=False, permanent=True, error=f"cannot build the e-mail: {exc}")
        try:
            # Serialised here with the SMTP policy: headers RFC 2047-encoded, CRLF, no SMTPUTF8 needed.
            wire = built.message.as_bytes(policy=email.policy.SMTP)
            refused, _ = _run(lambda: self._send(wire, built.recipients))
        except Exception as exc:
            permanent = classify(exc)
            log.warning(
                "e-mail for incident %s failed (%s): %s",
                notification.incident_id,
                "permanent" if permanent else "will retry",
                _describe(exc),
            )
            return DeliveryResult(ok=False, permanent=permanent, error=_describe(exc))
        state = dict(notification.state)
        state.setdefault("message_id", built.message_id)
        state.setdefault("subject", built.message["Subject"])
        state["last_message_id"] = built.message_id
        # Some recipients refused, others accepted: re-sending would duplicate to the accepted ones.
        error = f"refused by the server: {', '.join(sorted(refused))}" if refused else None
        return DeliveryResult(ok=True, state=state, error=error)
