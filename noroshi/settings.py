"""Settings from the environment (`NOROSHI_` prefix, `.env` supported), read once by the composition root."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    # Errors never echo input values: a mistyped secret must not end up in a log.
    model_config = SettingsConfigDict(
        env_prefix="NOROSHI_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,
    )

    database_url: str = Field(
        "sqlite:///./noroshi.db", description="SQLAlchemy URL; PostgreSQL in production"
    )
    host: str = Field("127.0.0.1", description="address the HTTP server binds to")
    port: int = Field(8000, ge=1, le=65535, description="HTTP port")
    demo: bool = Field(
        False, description="seed the demo brand and replay source at start (`make run` sets it)"
    )
    demo_speed: float = Field(900.0, gt=0, description="demo replay compression (900 = a day in 96 s)")
    public_url: str = Field("http://127.0.0.1:8000", description="base URL used in links to incident pages")
    secret_key: SecretStr | None = Field(
        None,
        description="signs the page links in Slack/e-mail; when set, pages need such a link or an API key"
        " (unset: pages are open to anyone who can reach the server)",
    )
    page_link_days: int = Field(14, ge=1, le=365, description="how long a signed page link stays valid")
    allow_local_writes: bool = Field(
        False, description="accept API writes without a key from 127.0.0.1 (only for the local demo)"
    )
    detect_interval_seconds: int = Field(
        30, ge=1, description="how often the detection tick looks for closed buckets"
    )
    tick_cache_brands: int = Field(
        2000,
        ge=0,
        description="brands whose bucket history a worker keeps between detection ticks"
        " (about 190 KB each with 28 days; 0: read it all from the database every tick)",
    )
    collect_max_backoff_seconds: int = Field(
        3600, ge=1, description="ceiling of the exponential backoff of a failing source"
    )
    auto_resolve_minutes: int | None = Field(
        None,
        ge=1,
        description="resolve after this long with no anomalous bucket (unset: the detector's quiet period)",
    )
    negativity_threshold: float | None = Field(
        None, ge=0, le=1, description="override the scorer's decision threshold for 'negative'"
    )
    log_level: str = Field("INFO", description="logging level")
    metrics_token: SecretStr | None = Field(
        None,
        description="bearer token for GET /metrics; once set, loopback scrapes need it too",
    )
    metrics_port: int | None = Field(
        None, ge=1, le=65535, description="`noroshi worker`: serve /metrics on this port (unset: none)"
    )
    metrics_host: str = Field("127.0.0.1", description="`noroshi worker`: address of its /metrics server")
    admin_key: SecretStr | None = Field(
        None,
        description="bootstrap admin API key (nrs_<prefix>_<secret>), stored hashed at start-up; "
        "else create one with `noroshi keys create`",
    )
    # Notification delivery (the outbox loop) and escalation.
    delivery_interval_seconds: float = Field(2.0, gt=0, description="how often the outbox loop runs")
    delivery_max_attempts: int = Field(8, ge=1, description="attempts before a notification is dead-lettered")
    delivery_backoff_max_seconds: int = Field(900, ge=1, description="ceiling of the retry backoff (5 s·2ⁿ)")
    delivery_lease_seconds: int = Field(
        120, ge=5, description="a claimed notification is retried after this long if its worker died"
    )
    lease_seconds: int = Field(
        120,
        ge=2,
        description="a dead worker's source is taken over after this long (keep it longer than a fetch)",
    )
    escalation_interval_seconds: int = Field(
        30, ge=1, description="how often escalation steps, reminders, snooze ends, campaign ends are checked"
    )
    # The default route, used only while no notification routes are configured through the API.
    slack_channel: str | None = Field(None, description="default route: Slack channel id told at once")
    slack_reminder_minutes: int | None = Field(
        60, ge=1, description="default route: remind the Slack channel this often while acknowledged"
    )
    email_to: str | None = Field(None, description="default route: comma-separated addresses (crisis team)")
    email_min_severity: str = Field(
        "warning", pattern="^(attention|warning|flame)$", description="default route: e-mail from this level"
    )
    email_delay_minutes: int = Field(
        0, ge=0, description="default route: e-mail only if still unacknowledged after this many minutes"
    )
    # Collector credentials (passed to the source kinds as `secrets`, never logged or stored).
    x_bearer_token: SecretStr | None = Field(None, description="X API v2 app-only bearer token")
    bluesky_handle: str | None = Field(None, description="Bluesky handle for an authenticated search")
    bluesky_app_password: SecretStr | None = Field(None, description="Bluesky app password")
    mastodon_token: SecretStr | None = Field(None, description="Mastodon access token (status search)")
    reddit_client_id: str | None = Field(None, description="Reddit app client id (client credentials)")
    reddit_client_secret: SecretStr | None = Field(None, description="Reddit app client secret")
    youtube_api_key: SecretStr | None = Field(None, description="YouTube Data API v3 key")
    # Slack app (bot token for the incident card, signing secret for its buttons).
    slack_bot_token: SecretStr | None = Field(None, description="Slack bot token (xoxb-…) for the card")
    slack_signing_secret: SecretStr | None = Field(
        None, description="Slack signing secret; verifies POST /slack/interactions"
    )
    slack_webhook_url: SecretStr | None = Field(
        None, description="Slack incoming-webhook URL: simpler mode, used when no bot token is set"
    )
    slack_api_url: str | None = Field(
        None, description="Slack Web API base URL (default https://slack.com/api/; tests point it elsewhere)"
    )
    # SMTP for the e-mail channel (unset host: no e-mail channel).
    smtp_host: str | None = Field(None, description="SMTP server host name")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port (587 STARTTLS, 465 SSL, 25 plain)")
    smtp_username: str | None = Field(None, description="SMTP AUTH user (unset: no AUTH)")
    smtp_password: SecretStr | None = Field(None, description="SMTP AUTH password")
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="starttls (upgrade on connect), ssl (implicit TLS) or none"
    )
    smtp_from: str | None = Field(None, description="sender address, e.g. 'Noroshi <noroshi@example.com>'")
    # Retention (storage/retention.py) and the daily digest (alerting/digest.py, alerting/digest_mail.py).
    retention_days: int = Field(
        90, ge=0, description="prune mentions posted more than this many days ago (0: keep forever)"
    )
    retention_batch: int = Field(500, ge=1, le=100_000, description="mentions deleted per short transaction")
    digest_timezone: str = Field("Asia/Tokyo", description="timezone of the daily digest's day boundaries")
    digest_hour: int = Field(9, ge=0, le=23, description="local hour from which the daily digest is e-mailed")
    digest_to: str | None = Field(
        None, description="comma-separated digest recipients (unset: NOROSHI_EMAIL_TO)"
    )

    @field_validator("digest_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (use an IANA name such as Asia/Tokyo)") from None
        return value

    @field_validator("admin_key")
    @classmethod
    def _admin_key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        from noroshi.bootstrap_key import check_key_shape  # lazy: settings load without the API stack

        if value is not None:
            check_key_shape(value.get_secret_value())
        return value

    def collector_secrets(self) -> dict[str, str]:
        """The credentials that are set, by the names the source kinds look up."""
        values = {
            "x_bearer_token": self.x_bearer_token,
            "bluesky_handle": self.bluesky_handle,
            "bluesky_app_password": self.bluesky_app_password,
            "mastodon_token": self.mastodon_token,
            "reddit_client_id": self.reddit_client_id,
            "reddit_client_secret": self.reddit_client_secret,
            "youtube_api_key": self.youtube_api_key,
        }
        plain = {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in values.items()}
        return {k: v for k, v in plain.items() if v}
