"""In-process Prometheus counters and histograms: what the collectors, the detection tick and the outbox did.

It lives at the bottom of the import graph (it imports nothing of ours) so collectors/ and alerting/ can
record without depending on the API layer. Each `Telemetry` owns its own CollectorRegistry — never
prometheus_client's global default — so two apps (or two tests) in one process never share counters.
The composition root makes one per process and hands it to the ingestor, the outbox worker and the app.
Gauges that describe stored state (incidents, sources, outbox backlog) are read from the database at
scrape time by api.metrics_export, not kept here.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

# Detection ticks run every 30 s over every brand; a tick over 1,000 brands takes seconds.
TICK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
COLLECT_RESULTS = ("ok", "failed", "not_due")
DELIVERY_RESULTS = ("sent", "retry", "dead", "lost_lease")


class Telemetry:
    """The process's counters. Methods take plain values so callers need no prometheus types."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.mentions = Counter(
            "noroshi_mentions_ingested",
            "Posts through the ingest path, by source kind and fate (stored, duplicate, unmatched).",
            ["source_kind", "status"],
            registry=self.registry,
        )
        self.posts_skipped = Counter(
            "noroshi_posts_skipped",
            "Items a collector could not read (malformed, missing fields) and skipped with a logged reason.",
            registry=self.registry,
        )
        self.collect_runs = Counter(
            "noroshi_collect_runs",
            "Collect runs of a source by result: ok, failed (health records why), not_due (backing off).",
            ["result"],
            registry=self.registry,
        )
        self.tick_seconds = Histogram(
            "noroshi_detection_tick_seconds",
            "Wall time of one detection tick over every brand.",
            buckets=TICK_BUCKETS,
            registry=self.registry,
        )
        self.buckets_evaluated = Counter(
            "noroshi_detection_buckets_evaluated",
            "Bucket × brand evaluations made by the detectors.",
            registry=self.registry,
        )
        self.deliveries = Counter(
            "noroshi_notifications_delivered",
            "Outbox delivery attempts by channel and result (sent, retry, dead, lost_lease).",
            ["channel", "result"],
            registry=self.registry,
        )
        for result in COLLECT_RESULTS:  # present at 0 from the start, so rate() works from the first scrape
            self.collect_runs.labels(result)

    def serve(self, host: str, port: int) -> Callable[[], None]:
        """Serve these counters on http://host:port/metrics from a thread (for `noroshi worker`, which has
        no HTTP server of its own). Database gauges are left to the API's /metrics so N workers do not
        report the same stored numbers N times. Returns a function that stops the server."""
        server, thread = start_http_server(port, host, registry=self.registry)

        def stop() -> None:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

        return stop

    def observe_ingest(self, source_kind: str, stored: int, duplicates: int, unmatched: int) -> None:
        for status, count in (("stored", stored), ("duplicate", duplicates), ("unmatched", unmatched)):
            self.mentions.labels(source_kind, status).inc(count)

    def observe_collect(self, *, ok: bool, not_due: bool, skipped_posts: int) -> None:
        """One SourceRunner.run outcome (its `ok`, `skipped_run` and `skipped`)."""
        result = "not_due" if not_due else ("ok" if ok else "failed")
        self.collect_runs.labels(result).inc()
        self.posts_skipped.inc(skipped_posts)

    def observe_tick(self, seconds: float, buckets_evaluated: int) -> None:
        """One DetectionTicker.tick: its wall time and its summary's `buckets_evaluated`."""
        self.tick_seconds.observe(seconds)
        self.buckets_evaluated.inc(buckets_evaluated)

    def observe_delivery(self, channel: str, result: str) -> None:
        if result not in DELIVERY_RESULTS:
            raise ValueError(f"unknown delivery result {result!r}")
        self.deliveries.labels(channel, result).inc()
