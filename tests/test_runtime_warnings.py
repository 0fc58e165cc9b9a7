"""`noroshi run` warns when its pages would be open to the network (no NOROSHI_SECRET_KEY, public bind)."""

from __future__ import annotations

import logging

import pytest

from noroshi import runtime
from noroshi.settings import Settings


@pytest.mark.parametrize(
    ("host", "secret", "warned"),
    [("0.0.0.0", None, True), ("127.0.0.1", None, False), ("0.0.0.0", "k" * 32, False)],
)
def test_open_pages_on_a_public_address_are_warned_about(
    tmp_path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    host: str,
    secret: str | None,
    warned: bool,
) -> None:
    served: list[str] = []
    # Everything up to the server is real (migrations, services, the app); the server itself is not started.
    monkeypatch.setattr(runtime.uvicorn, "run", lambda app, host, **_: served.append(host))
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'n.db'}", secret_key=secret)  # type: ignore[call-arg]
    with caplog.at_level(logging.WARNING, logger="noroshi.runtime"):
        runtime.run_service(settings, demo=False, host=host, port=None, scheduler=False)
    assert served == [host]
    assert ("NOROSHI_SECRET_KEY is unset" in caplog.text) is warned
