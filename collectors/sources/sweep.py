"""Newest-first pagination with a persisted floor, shared by the API kinds (see webapi.py).

A sweep pages from the newest item down to the previous sweep's newest (the floor); when a run stops
early (pages per run, rate limit), the page token and the sweep's newest key stay in the cursor and
the next run continues there. Keys are strings that sort like the items (zero-padded ids or ISO UTC
times); ties at the floor are told apart by the ids kept with it, so nothing repeats across runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from collectors.posts import RawPost
from collectors.sources.base import SourceError


class RateLimited(SourceError):
    """The service's budget is spent; `retry_after` is when it resets."""


def time_key(value: datetime) -> str:
    """A string that sorts like the time (UTC, fixed width)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def id_key(value: str) -> str:
    """A numeric id (X snowflake, Mastodon status id) as a string that sorts numerically."""
    if not value.isdigit():
        raise ValueError(f"id {value!r} is not numeric")
    return value.rjust(24, "0")


@dataclass(frozen=True, slots=True)
class Item:
    """One item of a page: its sort key and id, and the post (None = malformed, with the reason)."""

    key: str | None
    ref: str
    post: RawPost | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Item]
    next: str | None  # token for the next (older) page; None = last page
    wait_until: datetime | None = None  # the budget is spent: do not ask again before this


@dataclass
class SweepState:
    floor: str | None = None
    floor_ids: list[str] = field(default_factory=list)
    next: str | None = None
    top: str | None = None
    top_ids: list[str] = field(default_factory=list)
    query: str | None = None  # what the page token belongs to; a changed query restarts the sweep

    @classmethod
    def load(cls, data: Any, query: str) -> SweepState:
        state = cls(**data) if isinstance(data, dict) else cls()
        if state.query != query:  # a page token of another query is meaningless: keep only the floor
            state.next, state.top, state.top_ids, state.query = None, None, [], query
        return state

    def is_old(self, item: Item) -> bool:
        if self.floor is None or item.key is None:
            return False
        return item.key < self.floor or (item.key == self.floor and item.ref in self.floor_ids)

    def saw(self, item: Item) -> None:
        if item.key is None:
            return
        if self.top is None or item.key > self.top:
            self.top, self.top_ids = item.key, [item.ref]
        elif item.key == self.top and item.ref not in self.top_ids:
            self.top_ids.append(item.ref)

    def finish(self) -> None:
        """The sweep reached the floor: its newest item becomes the next floor."""
        if self.top is not None and (self.floor is None or self.top > self.floor):
            self.floor, self.floor_ids = self.top, self.top_ids
        elif self.top is not None and self.top == self.floor:
            self.floor_ids = list(dict.fromkeys(self.floor_ids + self.top_ids))
        self.next, self.top, self.top_ids = None, None, []


@dataclass
class SweepResult:
    posts: list[RawPost] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    wait_until: datetime | None = None


def sweep(
    state: SweepState, fetch_page: Callable[[str | None], Page], max_pages: int, out: SweepResult
) -> None:
    """Page newest → oldest from `state.next` until the floor, the last page or `max_pages`."""
    token = state.next
    for _ in range(max_pages):
        try:
            page = fetch_page(token)
        except RateLimited as exc:
            out.wait_until = exc.retry_after
            state.next = token
            return
        reached_floor = False
        for item in page.items:
            if state.is_old(item):
                reached_floor = True
                continue
            state.saw(item)
            if item.post is not None:
                out.posts.append(item.post)
            else:
                out.skipped.append((item.ref, item.reason or "malformed"))
        if reached_floor or not page.next:
            state.finish()
            out.wait_until = page.wait_until
            return
        token = page.next
        if page.wait_until is not None:
            out.wait_until = page.wait_until
            state.next = token
            return
    state.next = token  # pages per run used up: continue here next run
