"""What the API-backed kinds (x, bluesky, mastodon, reddit, youtube) share.

- `ApiSourceSettings`: base URL (a setting, so tests and proxies can point elsewhere), which brands'
  keywords build the query (`brands`, empty = all), timeout, bounded retries, pages per run.
- `ApiClient.get`: GET with tenacity retries on timeouts, transport errors and 5xx (exponential,
  bounded); 401/403 → `SourceAuthError` naming the environment variable to check; 429 →
  `RateLimited` carrying the reset time read from the service's headers; rate-limit headers of a
  successful response tell when the budget is spent (`ApiClient.exhausted_until`).
- `sweep` (sweep.py): the newest-first pagination with a persisted floor that all these APIs share.
- `ApiSource.fetch`: waits out a recorded rate-limit reset without calling the service, sweeps each
  target (a query, a hashtag, a video …) with its own state, and returns posts + the new cursor; if
  the budget ran out before any post arrived it raises `RateLimited` so the runner waits until reset.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import httpx
from pydantic import Field, field_validator
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from collectors.matching import BrandRule
from collectors.posts import FetchResult
from collectors.sources.base import SourceAuthError, SourceError, SourceSettings
from collectors.sources.sweep import (
    Item,
    Page,
    RateLimited,
    SweepResult,
    SweepState,
    id_key,
    sweep,
    time_key,
)

__all__ = [  # the kinds import these from here
    "ApiClient",
    "ApiSource",
    "ApiSourceSettings",
    "Item",
    "Page",
    "RateLimitHeaders",
    "RateLimited",
    "Target",
    "id_key",
    "optional_int",
    "parse_time",
    "time_key",
    "unique_keywords",
]

log = logging.getLogger(__name__)

USER_AGENT = "Noroshi/0.1"
CURSOR_VERSION = 1
DEFAULT_RATE_WAIT = timedelta(seconds=60)  # a 429 without any reset header
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
AUTH_STATUSES = {401: "Unauthorized", 403: "Forbidden"}


class _Transient(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ApiSourceSettings(SourceSettings):
    base_url: str = Field(description="API base URL (no trailing slash needed)")
    brands: list[int] = Field(default_factory=list, description="brand ids whose keywords build the query")
    timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    retries: int = Field(default=3, ge=0, le=10, description="extra attempts on timeouts and 5xx")
    retry_wait_seconds: float = Field(default=1.0, ge=0, le=60, description="first retry delay (doubles)")
    max_pages: int = Field(default=10, ge=1, le=1000, description="pages per target per run")

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        parsed = httpx.URL(value)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError("must be an http:// or https:// URL with a host")
        return value.rstrip("/")


# -------------------------------------------------------------------------------------- rate limits


def _reset_epoch(value: str, now: datetime) -> datetime:
    return datetime.fromtimestamp(float(value), tz=UTC)


def _reset_seconds(value: str, now: datetime) -> datetime:
    return now + timedelta(seconds=float(value))


def _reset_iso(value: str, now: datetime) -> datetime:
    return parse_time(value)


# How each service writes its reset header: absolute epoch seconds (X, Bluesky), seconds from now
# (Reddit), or an ISO 8601 time (Mastodon).
RESET_PARSERS: dict[str, Callable[[str, datetime], datetime]] = {
    "epoch": _reset_epoch,
    "seconds": _reset_seconds,
    "iso": _reset_iso,
}


@dataclass(frozen=True, slots=True)
class RateLimitHeaders:
    remaining: str
    reset: str
    reset_style: str  # a key of RESET_PARSERS


def _retry_after_header(value: str | None, now: datetime) -> datetime | None:
    if not value:
        return None
    if value.strip().isdigit():
        return now + timedelta(seconds=int(value))
    try:
        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------------------------------ client


@dataclass
class ApiClient:
    """GET requests of one kind: retries, status classification and rate-limit headers."""

    name: str  # "x", "reddit" … (prefix of every error message)
    settings: ApiSourceSettings
    http: httpx.Client
    rate: RateLimitHeaders | None
    auth_hint: str  # what to check on 401/403, e.g. "NOROSHI_X_BEARER_TOKEN"

    def get(
        self,
        url: str,
        *,
        now: datetime,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        response = self._send("GET", url, params, headers, None)
        self.check(response, now)
        return response

    def post(
        self,
        url: str,
        *,
        now: datetime,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST (token and session endpoints): same retries and status handling as `get`."""
        response = self._send("POST", url, None, headers, {"data": data, "json": json})
        self.check(response, now)
        return response

    def _send(
        self, method: str, url: str, params: Any, headers: Mapping[str, str] | None, body: Any
    ) -> httpx.Response:
        settings = self.settings
        retrying = Retrying(
            stop=stop_after_attempt(settings.retries + 1),
            wait=wait_exponential(multiplier=settings.retry_wait_seconds, max=30),
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._send_once(method, url, params, headers, body)
        except _Transient as exc:
            raise SourceError(f"{self.name}: {exc.message} (after {settings.retries + 1} attempts)") from exc
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _send_once(
        self, method: str, url: str, params: Any, headers: Mapping[str, str] | None, body: Any
    ) -> httpx.Response:
        try:
            response = self.http.request(
                method,
                url,
                **(body or {}),
                params=params,
                headers={"User-Agent": USER_AGENT, **(headers or {})},
                timeout=self.settings.timeout_seconds,
            )
        except httpx.TimeoutException as exc:
            raise _Transient(f"timed out after {self.settings.timeout_seconds:g}s") from exc
        except httpx.TransportError as exc:
            raise _Transient(f"request failed: {exc!r}") from exc
        if response.status_code in TRANSIENT_STATUSES:
            log.info("%s: HTTP %s from %s, retrying", self.name, response.status_code, url)
            raise _Transient(f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
        return response

    def check(self, response: httpx.Response, now: datetime) -> None:
        """Raise the right SourceError for an unsuccessful response."""
        status = response.status_code
        if status in AUTH_STATUSES:
            raise SourceAuthError(f"{self.name}: {status} {AUTH_STATUSES[status]} — check {self.auth_hint}")
        if status == 429:
            until = self.exhausted_until(response, now, force=True) or now + DEFAULT_RATE_WAIT
            raise RateLimited(f"{self.name}: 429 rate limited until {until.isoformat()}", retry_after=until)
        if not response.is_success:
            body = response.text[:300].replace("\n", " ")
            raise SourceError(f"{self.name}: HTTP {status} {response.reason_phrase}: {body}".rstrip(": "))

    def exhausted_until(
        self, response: httpx.Response, now: datetime, force: bool = False
    ) -> datetime | None:
        """When the budget resets if this response says it is spent (or `force`), else None."""
        headers = response.headers
        reset: datetime | None = None
        if self.rate is not None:
            remaining = headers.get(self.rate.remaining)
            spent = force or (
                remaining is not None and _as_float(remaining) is not None and float(remaining) < 1
            )
            if not spent:
                return None
            raw = headers.get(self.rate.reset)
            if raw:
                try:
                    reset = RESET_PARSERS[self.rate.reset_style](raw.strip(), now)
                except (ValueError, OverflowError):
                    log.warning("%s: unreadable rate-limit reset header %r", self.name, raw)
        elif not force:
            return None
        reset = reset or _retry_after_header(headers.get("retry-after"), now)
        if reset is None:
            return now + DEFAULT_RATE_WAIT
        return max(reset, now)


def _as_float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------- helpers


def parse_time(value: Any) -> datetime:
    """An ISO 8601 time (with Z or offset) as tz-aware UTC; a naive time counts as UTC."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a timestamp: {value!r}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def optional_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def selected_rules(brands: Sequence[BrandRule], wanted: Iterable[int]) -> list[BrandRule]:
    """The rules of the brands a source is for (all when `wanted` is empty)."""
    ids = set(wanted)
    return [rule for rule in brands if not ids or rule.brand_id in ids]


def unique_keywords(rules: Sequence[BrandRule]) -> list[str]:
    return list(dict.fromkeys(kw.strip() for rule in rules for kw in rule.keywords if kw.strip()))


# ------------------------------------------------------------------------------------------ source


@dataclass(frozen=True, slots=True)
class Target:
    label: str  # key of its state in the cursor, e.g. "tag:ノロシ珈琲" or "query"
    query: str  # what its page tokens depend on


class ApiSource:
    """Base of the API kinds: subclasses define `kind`, `client()`, `targets()` and `fetch_page()`."""

    kind: ClassVar[str] = ""

    def __init__(
        self,
        settings: ApiSourceSettings,
        *,
        http: httpx.Client | None = None,
        brands: Sequence[BrandRule] = (),
        secrets: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self._http = http
        self.rules = selected_rules(brands, settings.brands)
        self.secrets = dict(secrets or {})

    def targets(self) -> list[Target]:
        raise NotImplementedError

    def fetch_page(
        self, api: ApiClient, target: Target, token: str | None, floor: str | None, now: datetime
    ) -> Page:
        """One page of `target`, newest first; `floor` is the key of the last sweep's newest item."""
        raise NotImplementedError

    def client(self, http: httpx.Client) -> ApiClient:
        raise NotImplementedError

    def prepare(self, api: ApiClient, now: datetime) -> None:
        """Hook before the first page (e.g. fetch an OAuth token)."""

    def fetch(self, cursor: dict[str, Any] | None, now: datetime) -> FetchResult:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        state = cursor if cursor and cursor.get("v") == CURSOR_VERSION else {"v": CURSOR_VERSION}
        wait_raw = state.get("wait_until")
        if wait_raw and parse_time(wait_raw) > now:
            return FetchResult(posts=[], cursor=state)  # budget still spent: do not call the service
        targets = self.targets()
        http = self._http or httpx.Client(follow_redirects=True)
        try:
            api = self.client(http)
            self.prepare(api, now)
            out = SweepResult()
            saved = state.get("targets") or {}
            new_targets: dict[str, Any] = {}
            for target in targets:
                sweep_state = SweepState.load(saved.get(target.label), target.query)
                if out.wait_until is None:
                    sweep(
                        sweep_state,
                        lambda token, t=target, s=sweep_state: self.fetch_page(  # type: ignore[misc]
                            api, t, token, s.floor, now
                        ),
                        self.settings.max_pages,
                        out,
                    )
                new_targets[target.label] = sweep_state.__dict__.copy()
        finally:
            if self._http is None:
                http.close()
        if out.wait_until is not None and not out.posts:
            raise RateLimited(
                f"{self.kind}: rate limit spent until {out.wait_until.isoformat()}",
                retry_after=out.wait_until,
            )
        new_cursor = {
            "v": CURSOR_VERSION,
            "targets": new_targets,
            "wait_until": out.wait_until.isoformat() if out.wait_until else None,
        }
        # Targets overlap (a post found by two keywords or a tag and a search): keep it once.
        posts = list({post.external_id: post for post in reversed(out.posts)}.values())
        posts.sort(key=lambda post: post.posted_at)
        return FetchResult(posts=posts, cursor=new_cursor, skipped=out.skipped)
