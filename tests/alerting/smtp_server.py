"""A real SMTP server for the e-mail tests: aiosmtpd on 127.0.0.1 with STARTTLS (or implicit TLS) and AUTH,
using a self-signed certificate made here with `cryptography` (the client verifies it as its CA), or
plain (`plain_smtp_server`: no TLS, no AUTH) for tests about what is sent rather than how."""

from __future__ import annotations

import email
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER, PASSWORD = "noroshi", "s3cret-Pa55"


def make_certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool
    authenticated: bool

    def message(self) -> EmailMessage:
        """The received mail, parsed."""
        return email.message_from_bytes(self.content, policy=default_policy)  # type: ignore[return-value]


@dataclass
class Handler:
    messages: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    rcpt_reply: str | None = None  # e.g. "451 4.3.0 try later" to refuse recipients

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.content,
                tls=server.transport.get_extra_info("ssl_object") is not None,
                authenticated=bool(session.authenticated),
            )
        )
        return "250 OK queued"

    def authenticate(self, server, session, envelope, mechanism, auth_data: Any) -> AuthResult:  # type: ignore[no-untyped-def]
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # unhandled: aiosmtpd sends the 235/535 reply


@dataclass
class SmtpServer:
    port: int
    handler: Handler
    client_tls: ssl.SSLContext


@contextmanager
def smtp_server(directory: Path, implicit_tls: bool = False) -> Iterator[SmtpServer]:
    cert, key = make_certificate(directory)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))
    handler = Handler()
    port = free_port()
    options: dict[str, Any] = {"authenticator": handler.authenticate, "auth_required": True}
    if implicit_tls:
        # aiosmtpd only knows about STARTTLS; on an implicit-TLS socket it must be told AUTH is fine
        # (it warns about it: the test filters that warning)
        options.update(ssl_context=server_tls, auth_require_tls=False)
    else:
        options.update(tls_context=server_tls, require_starttls=True, auth_require_tls=True)
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield SmtpServer(port, handler, client_tls)
    finally:
        controller.stop()


@contextmanager
def plain_smtp_server() -> Iterator[SmtpServer]:
    """aiosmtpd without TLS or AUTH (`client_tls` is a default context, unused by such a client)."""
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer(controller.port, handler, ssl.create_default_context())
    finally:
        controller.stop()
