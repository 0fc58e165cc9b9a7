"""The composition root builds the channels and the default route that the settings describe."""

from __future__ import annotations

from pydantic import SecretStr

from alerting.channels.slack import SlackChannel, SlackWebhookChannel
from noroshi.services import build_channels, default_routes
from noroshi.settings import Settings


def _settings(**fields: object) -> Settings:
    return Settings(_env_file=None, **fields)  # type: ignore[call-arg]


def test_incoming_webhook_mode_when_there_is_no_bot_token(factory) -> None:
    settings = _settings(slack_webhook_url=SecretStr("http://127.0.0.1:9/hook"))
    channels = build_channels(settings, factory)
    assert isinstance(channels["slack"], SlackWebhookChannel)
    assert [(r.channel, r.target) for r in default_routes(settings)] == [("slack", "incoming-webhook")]


def test_bot_token_wins_and_routes_follow_the_configured_channel(factory) -> None:
    settings = _settings(
        slack_bot_token=SecretStr("xoxb-test"),
        slack_webhook_url=SecretStr("http://x/h"),
        slack_channel="C123",
        email_to="crisis@example.com",
    )
    channels = build_channels(settings, factory)
    assert isinstance(channels["slack"], SlackChannel)
    assert "email" not in channels  # no SMTP host configured
    routes = {r.channel: r.target for r in default_routes(settings)}
    assert routes == {"slack": "C123", "email": "crisis@example.com"}


def test_nothing_configured_means_no_slack_and_no_default_route(factory) -> None:
    settings = _settings()
    assert "slack" not in build_channels(settings, factory)
    assert default_routes(settings) == ()


def test_housekeeping_follows_retention_and_digest_settings(db_url) -> None:
    from datetime import timedelta

    from noroshi.services import JobScheduler, build_services
    from storage.migrations import upgrade

    upgrade(db_url)
    mailed = build_services(
        _settings(
            database_url=db_url,
            smtp_host="127.0.0.1",
            smtp_from="noroshi@example.com",
            email_to="pr@example.com",
            retention_days=30,
        )
    )
    assert mailed.housekeeping is not None and mailed.housekeeping.digest is not None
    assert mailed.housekeeping.digest.recipients == ["pr@example.com"]
    assert mailed.housekeeping.retention == timedelta(days=30)
    plain = build_services(_settings(database_url=db_url, retention_days=0))
    assert plain.housekeeping is not None
    assert plain.housekeeping.digest is None and plain.housekeeping.retention is None
    plain.housekeeping.prune()  # keep-forever still expires idempotency records without error
    jobs = JobScheduler(plain, detect_interval_seconds=30)
    jobs.start()
    try:
        expected = {"prune", "digest", "detect", "deliver", "escalate"}
        assert expected <= {j.id for j in jobs.scheduler.get_jobs()}
    finally:
        jobs.shutdown()
        mailed.engine.dispose()
        plain.engine.dispose()
