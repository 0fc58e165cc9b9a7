"""What a source kind is, its errors, and the registry that builds sources from stored settings.

A source kind is one module in this package: a pydantic settings model (subclass of `SourceSettings`)
and a class with `kind` and `fetch(cursor, now)`, registered with `@register_source_kind(...)`. To
add a kind, write the module and add its import path to `_BUILTIN_MODULES` below.

    source = build_source("rss", {"url": "https://example.org/feed.xml"}, http=client)
    result = source.fetch(cursor, now)   # FetchResult; persist result.cursor for the next run
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from collectors.matching import BrandRule
from collectors.posts import FetchResult

__all__ = [
    "AUTH_ERROR_PREFIX",
    "Source",
    "SourceAuthError",
    "SourceConfigError",
    "SourceError",
    "SourceKindInfo",
    "SourceSettings",
    "build_source",
    "get_source_kind",
    "register_source_kind",
    "source_kinds",
    "validate_source_settings",
]

# Modules that register the built-in kinds when imported (imported lazily, on first registry use).
_BUILTIN_MODULES: tuple[str, ...] = (
    "collectors.sources.push",
    "collectors.sources.replay",
    "collectors.sources.rss",
    "collectors.sources.rss_query",
    "collectors.sources.x",
    "collectors.sources.bluesky",
    "collectors.sources.mastodon",
    "collectors.sources.reddit",
    "collectors.sources.youtube",
)


@runtime_checkable
class Source(Protocol):
    """A configured source. `fetch` is called by the collect job with the cursor of the previous run."""

    kind: ClassVar[str]

    def fetch(self, cursor: dict[str, Any] | None, now: datetime) -> FetchResult: ...


class SourceConfigError(ValueError):
    """Settings for a source kind are invalid. `field` names the offending setting (dotted path)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class SourceError(Exception):
    """A collect run failed (network, HTTP status, unreadable file or feed). The cursor is unchanged.

    `retry_after` (tz-aware) is set when the service said when to come back (rate limit or quota
    reset): the runner then waits exactly until then instead of its exponential backoff.
    """

    def __init__(self, message: str, *, retry_after: datetime | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SourceAuthError(SourceError):
    """The service rejected the credentials (401/403). Recorded in health as `AUTH_ERROR_PREFIX …`."""


# How an auth failure starts in Source.last_error (the runner writes "<exception class>: <message>");
# /readyz lists the sources whose last error starts with it.
AUTH_ERROR_PREFIX = "SourceAuthError:"


class SourceSettings(BaseModel):
    """Base of every kind's settings: unknown keys are rejected, values are immutable once built."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


SettingsT = TypeVar("SettingsT", bound=SourceSettings)


class SourceFactory(Protocol):
    def __call__(self, settings: Any, *, http: httpx.Client | None = None) -> Source: ...


class ContextSourceFactory(Protocol):
    """Kinds registered with `context=True` also get the brand rules and the secrets."""

    def __call__(
        self,
        settings: Any,
        *,
        http: httpx.Client | None = None,
        brands: Sequence[BrandRule] = (),
        secrets: Mapping[str, str] | None = None,
    ) -> Source: ...


@dataclass(frozen=True, slots=True)
class SourceKindInfo:
    """A registered kind. `pull` is False for kinds whose posts arrive through the API (no collect job)."""

    kind: str
    settings_model: type[SourceSettings]
    factory: SourceFactory | ContextSourceFactory
    pull: bool
    description: str
    context: bool = False  # the factory takes `brands` and `secrets` (query from keywords, API keys)


_REGISTRY: dict[str, SourceKindInfo] = {}
_builtins_loaded = False


def register_source_kind(
    kind: str,
    settings_model: type[SettingsT],
    *,
    pull: bool = True,
    description: str = "",
    context: bool = False,
) -> Callable[[type[Any]], type[Any]]:
    """Class decorator registering a source class under `kind` (its `kind` ClassVar must agree).

    The class is constructed as `cls(settings_model_instance, http=client_or_None)`, and with
    `context=True` also with `brands=` (the BrandRules of all brands) and `secrets=` (API credentials
    by name, e.g. "x_bearer_token", from noroshi/settings.py).
    """

    def decorate(cls: type[Any]) -> type[Any]:
        if getattr(cls, "kind", None) != kind:
            raise TypeError(f"{cls.__name__}.kind must be {kind!r}")
        existing = _REGISTRY.get(kind)
        if existing is not None and existing.factory is not cls:
            raise ValueError(f"source kind {kind!r} is already registered by {existing.factory!r}")
        text = description or next(iter((cls.__doc__ or "").strip().splitlines()), "")
        _REGISTRY[kind] = SourceKindInfo(kind, settings_model, cls, pull, text, context)
        return cls

    return decorate


def _load_builtins() -> None:
    global _builtins_loaded
    if not _builtins_loaded:
        for module in _BUILTIN_MODULES:
            importlib.import_module(module)
        _builtins_loaded = True


def source_kinds() -> list[str]:
    """Names of all registered kinds, sorted."""
    _load_builtins()
    return sorted(_REGISTRY)


def get_source_kind(kind: str) -> SourceKindInfo:
    _load_builtins()
    try:
        return _REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise SourceConfigError("kind", f"unknown source kind {kind!r} (known: {known})") from None


def _parse_settings(kind: str, settings: dict[str, Any] | None) -> SourceSettings:
    info = get_source_kind(kind)
    if settings is None:
        settings = {}
    if not isinstance(settings, dict):
        raise SourceConfigError("settings", f"must be an object, got {type(settings).__name__}")
    try:
        return info.settings_model.model_validate(settings)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        field = ".".join(str(part) for part in first["loc"]) or "settings"
        message = str(first["msg"])
        if first["type"] == "extra_forbidden":
            message = f"unknown setting for kind {kind!r}"
        if len(errors) > 1:
            others = ", ".join(".".join(str(p) for p in e["loc"]) or "settings" for e in errors[1:])
            message += f" (also invalid: {others})"
        raise SourceConfigError(field, message) from exc


def validate_source_settings(kind: str, settings: dict[str, Any] | None) -> dict[str, Any]:
    """Check `settings` for `kind` and return them normalised (defaults filled in, JSON-compatible).

    Raises SourceConfigError naming the first bad field (or "kind" for an unknown kind).
    """
    return _parse_settings(kind, settings).model_dump(mode="json")


def build_source(
    kind: str,
    settings: dict[str, Any] | None,
    *,
    http: httpx.Client | None = None,
    brands: Sequence[BrandRule] = (),
    secrets: Mapping[str, str] | None = None,
) -> Source:
    """Validate `settings` and build the source. `http` is shared by network kinds (not closed by them).

    `brands` and `secrets` reach only kinds registered with `context=True` (they build their queries
    from the brands' keywords and authenticate with the secrets).
    """
    parsed = _parse_settings(kind, settings)
    info = get_source_kind(kind)
    if info.context:
        return info.factory(parsed, http=http, brands=brands, secrets=secrets or {})  # type: ignore[call-arg]
    return info.factory(parsed, http=http)
