"""Settings from the environment (`NOROSHI_` prefix, `.env` supported), read once by the composition root."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NOROSHI_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
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
    allow_local_writes: bool = Field(
        False, description="accept API writes without a key from 127.0.0.1 (only for the local demo)"
    )
    detect_interval_seconds: int = Field(
        30, ge=1, description="how often the detection tick looks for closed buckets"
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
    admin_key: SecretStr | None = Field(
        None, description="optional bootstrap admin API key (else create one with `noroshi keys create`)"
    )
