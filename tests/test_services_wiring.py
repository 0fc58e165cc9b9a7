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
    settings = _settings(slack_bot_token=SecretStr("xoxb-test"), slack_webhook_url=SecretStr("http://x/h"),
                         slack_channel="C123", email_to="crisis@example.com")
    channels = build_channels(settings, factory)
    assert isinstance(channels["slack"], SlackChannel)
    assert "email" not in channels  # no SMTP host configured
    routes = {r.channel: r.target for r in default_routes(settings)}
    assert routes == {"slack": "C123", "email": "crisis@example.com"}


def test_nothing_configured_means_no_slack_and_no_default_route(factory) -> None:
    settings = _settings()
    assert "slack" not in build_channels(settings, factory)
    assert default_routes(settings) == ()
