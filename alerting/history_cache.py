"""The detection tick's bucket history, kept in the worker process between ticks.

Every live tick evaluates one new bucket per brand against the 28 days before it, so reading those
28 days (8,064 buckets per brand, 8 M rows for 1,000 brands) from the database each time re-reads
the same old history every five minutes. This cache keeps, per brand, the BucketSeries the last
tick read, the range it covers ([since, until] in bucket starts) and when it was last read in full.

Each tick, a brand with a usable entry reads only its recent tail from the database: buckets
starting at or after the entry's `until` − `RE_READ_MARGIN` (6 h). The tail replaces the overlapping
part of the entry, adds the new buckets, and what is now older than the brand's `since` is dropped.
A brand reads its whole range, as without the cache, when it has no entry, when the entry does not
reach back to its `since`, when it is due for a full refresh, or when its detector run does not
continue from the entry (the run was reset or moved back for a replay, or the brand was deleted and
its id reused: the run evaluated less than the entry holds). The whole batch is still one query
(`load_bucket_ranges`: each brand from its own `since`).

Why bounded staleness is acceptable: the newest buckets, where ingest writes all the time, are
always re-read. Buckets older than the margin change only through late mentions (backfills, a
source catching up) and `noroshi buckets rebuild`; live detection judges each bucket against the
history as it stood at that tick anyway (a bucket already evaluated is not judged again); and a
full read at least once per `FULL_REFRESH` (1 h) brings any such change in. Full refreshes are
staggered: each brand refreshes when the tick's `now` (never the wall clock) crosses its own point
of the hour, so after a cold start not every brand refreshes on the same tick again.

Exactness: whenever no bucket older than the margin changed since it was cached, the detector sees
exactly what a database read would give. The tick itself writes too: it upserts an expectation row
for every bucket it evaluates, creating a zero-count row where nobody posted; `HistoryRead.evaluated`
mirrors those rows into the entry, so even a catch-up over days of gaps leaves the cache equal to the
table.

Consistency: a tick stages what it read in a `HistoryRead`; the ticker hands it to `keep` only after
the batch's transaction committed, so a rolled-back batch records nothing (the old entries, with
their old `until`, stay as they were and the next tick re-reads from there).

Memory: per brand ≈ 24 bytes a bucket (starts as int64; counts as int32 when they fit), about 190 KB
for 28 days of 5-minute buckets, so `max_brands` (default `MAX_BRANDS`, 2,000 ≈ 390 MB) bounds it.
A full cache admits a new brand only after dropping entries due for a refresh (they would be read
in full anyway); otherwise the brand is read in full each tick without being kept. Unlike an LRU,
this keeps its hits when a worker ticks more brands than it can hold: an LRU over a cyclic scan
would evict every brand just before its next use.

Several workers: every process has its own cache (a restart starts empty; nothing is persisted).
Brands are claimed with SKIP LOCKED, so a worker may get a brand it has not cached: it reads it in
full, correct and only slower. A brand another worker ticked in between still has a usable entry
here: its tail read starts before everything the other worker evaluated (and wrote), and the entry
is refreshed within the hour like any other. The ticker ticks the brands a worker has cached first
(`split`), so each worker tends to claim the same brands again on the next tick, and claims the others
in smaller batches (alerting/tick.py, `UNCACHED_BATCH_BRANDS`). `NOROSHI_TICK_CACHE_BRANDS`
sets a worker's `max_brands` (0: no cache).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from alerting.tick_points import EPOCH, epoch_of
from storage.bucket_series import EMPTY, BucketSeries, load_bucket_ranges

# Buckets starting this close to the last read's end are always read again: ingest is still
# writing there (open buckets, sources a few minutes behind, the tick's own zero rows).
RE_READ_MARGIN = timedelta(hours=6)
# An entry is read in full again at least this often, bringing in late changes to older buckets.
FULL_REFRESH = timedelta(hours=1)
# Brands one process keeps (≈ 190 KB each with 28 days of 5-minute buckets).
MAX_BRANDS = 2000
_INT32 = np.iinfo(np.int32)
_PHASE_MULTIPLIER = 2654435761  # Knuth's multiplicative hash: consecutive ids spread over the period


def _compact(values: np.ndarray) -> np.ndarray:
    """int32 when every value fits (counts almost always do), else the int64 array as it is."""
    if values.size and (int(values.max()) > _INT32.max or int(values.min()) < _INT32.min):
        return values
    return values.astype(np.int32)


def _compact_series(series: BucketSeries) -> BucketSeries:
    counts = (series.total, series.negative, series.authors, series.reach)
    return BucketSeries(series.epoch, *(_compact(values) for values in counts))


def _concat(parts: Sequence[BucketSeries]) -> BucketSeries:
    columns = zip(*((p.epoch, p.total, p.negative, p.authors, p.reach) for p in parts), strict=True)
    return BucketSeries(*(np.concatenate(column).astype(np.int64, copy=False) for column in columns))


@dataclass(frozen=True, slots=True)
class HistoryWant:
    """What one brand's tick reads: the buckets starting in [since, until], and how far its detector
    run had evaluated (None: never, or the run was reset)."""

    since: datetime
    until: datetime
    through: datetime | None


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """One brand's buckets starting in [since, until], as read (and written by the tick)."""

    series: BucketSeries
    since: datetime
    until: datetime
    loaded_at: datetime  # the tick's `now` of the last full read


@dataclass(slots=True)
class HistoryRead:
    """What one batch read: the series to evaluate, and the entries to keep once it committed."""

    now: datetime  # the tick's
    series: dict[int, BucketSeries] = field(default_factory=dict)
    entries: dict[int, CacheEntry] = field(default_factory=dict)
    full: int = 0
    tail: int = 0

    def evaluated(self, brand_id: int, starts: Sequence[datetime]) -> None:
        """The tick evaluated these buckets and upserts an expectation row for each, which creates a
        zero-count row where no bucket was stored: keep the entry equal to the table."""
        entry = self.entries.get(brand_id)
        if entry is None or not starts:
            return
        wanted = np.array([epoch_of(at) for at in starts], dtype=np.int64)
        stored = entry.series.epoch  # sorted: a binary search per bucket (usually one), not a set
        at = np.minimum(np.searchsorted(stored, wanted), max(stored.size - 1, 0))
        missing = wanted if not stored.size else wanted[stored[at] != wanted]
        if not missing.size:
            return
        zeros = np.zeros(missing.size, dtype=np.int64)
        both = _concat([entry.series, BucketSeries(missing, zeros, zeros, zeros, zeros)])
        order = np.argsort(both.epoch, kind="stable")
        series = _compact_series(both.masked(order))
        self.entries[brand_id] = CacheEntry(series, entry.since, entry.until, entry.loaded_at)


class HistoryCache:
    """Per-brand bucket history of one worker process (see the module docstring)."""

    def __init__(
        self,
        max_brands: int = MAX_BRANDS,
        margin: timedelta = RE_READ_MARGIN,
        refresh: timedelta = FULL_REFRESH,
    ) -> None:
        self.max_brands = max_brands
        self.margin = margin
        self.refresh = refresh
        self.full_reads = 0  # brands read in full (committed batches)
        self.tail_reads = 0  # brands that read only their tail
        self._entries: dict[int, CacheEntry] = {}
        self._lock = threading.Lock()  # a ticker may be shared by threads
        self._purged_at: datetime | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, brand_id: object) -> bool:
        return brand_id in self._entries

    def nbytes(self) -> int:
        """The arrays' memory."""
        columns = ("epoch", "total", "negative", "authors", "reach")
        entries = list(self._entries.values())
        return sum(getattr(e.series, name).nbytes for e in entries for name in columns)

    def entry(self, brand_id: int) -> CacheEntry | None:
        return self._entries.get(brand_id)

    def next_refresh(self, brand_id: int, loaded_at: datetime) -> datetime:
        """When an entry read in full at `loaded_at` is read in full again: the brand's own point of
        the period (a hash of its id), the first one after `loaded_at`; at most one period later."""
        period = int(self.refresh.total_seconds())
        phase = (brand_id * _PHASE_MULTIPLIER) % period
        slot = (epoch_of(loaded_at) - phase) // period
        return EPOCH + timedelta(seconds=(slot + 1) * period + phase)

    def _usable(self, brand_id: int, want: HistoryWant, now: datetime) -> CacheEntry | None:
        """The brand's entry, if it can stand in for the history before the tail. Not when the entry
        does not reach back to `since`, is due for its full refresh, or ends after the bucket the
        detector run says was evaluated last: a run that was reset or moved back (a replay), or a
        brand deleted and its id reused, reads in full."""
        entry = self._entries.get(brand_id)
        if entry is None or want.through is None or entry.until > want.through or entry.since > want.since:
            return None
        if now < entry.loaded_at or now >= self.next_refresh(brand_id, entry.loaded_at):
            return None
        return entry

    def read(self, session: Session, wants: Mapping[int, HistoryWant], now: datetime) -> HistoryRead:
        """Each brand's buckets in [since, until] of its want (one query for the batch), and the
        entries to `keep` once the batch has committed. Brands without buckets get EMPTY."""
        cached = {b: self._usable(b, want, now) for b, want in wants.items()}
        ask = {
            b: want.since if entry is None else max(want.since, entry.until - self.margin)
            for b, want in wants.items()
            for entry in [cached[b]]
        }
        fetched = load_bucket_ranges(session, ask, max(want.until for want in wants.values()))
        out = HistoryRead(now)
        for brand_id, want in wants.items():
            first, entry = epoch_of(ask[brand_id]), cached[brand_id]
            fresh = fetched.get(brand_id, EMPTY).between(first, epoch_of(want.until))
            if entry is None:
                series, loaded_at = fresh, now
                out.full += 1
            else:  # the kept part before the tail, then the tail as it is in the table now
                kept = entry.series.between(epoch_of(want.since), first - 1)
                series, loaded_at = _concat([kept, fresh]), entry.loaded_at
                out.tail += 1
            out.series[brand_id] = series
            out.entries[brand_id] = CacheEntry(_compact_series(series), want.since, want.until, loaded_at)
        return out

    def keep(self, read: HistoryRead) -> None:
        """Record a committed batch's reads (call only after its transaction committed)."""
        with self._lock:
            self.full_reads += read.full
            self.tail_reads += read.tail
            for brand_id, entry in read.entries.items():
                if brand_id in self._entries or self._room(read.now):
                    self._entries[brand_id] = entry

    def _room(self, now: datetime) -> bool:
        """Whether a new brand fits, after dropping the entries due for a full read anyway (looked
        for once per tick: a worker with more brands than room asks for every batch)."""
        if len(self._entries) < self.max_brands:
            return True
        if self._purged_at != now:
            self._purged_at = now
            due = [b for b, e in self._entries.items() if now >= self.next_refresh(b, e.loaded_at)]
            for brand_id in due:
                del self._entries[brand_id]
        return len(self._entries) < self.max_brands

    def split(self, brand_ids: Sequence[int]) -> tuple[list[int], list[int]]:
        """The brands this process has cached, and the others (each in the given order): with several
        workers, each ticks the brands it already holds first and so tends to claim them again."""
        cached = [brand_id for brand_id in brand_ids if brand_id in self._entries]
        others = [brand_id for brand_id in brand_ids if brand_id not in self._entries]
        return cached, others

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
