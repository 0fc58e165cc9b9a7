"""Fixtures shared by the alerting tests that deliver for real."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.alerting.smtp_server import Handler, plain_smtp_server


@pytest.fixture
def smtp() -> Iterator[tuple[Handler, int]]:
    """A plain aiosmtpd server on a free port: its handler (what it received) and the port."""
    with plain_smtp_server() as server:
        yield server.handler, server.port
