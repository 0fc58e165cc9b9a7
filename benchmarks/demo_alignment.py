"""The demo day at every time of day: does a brand created with the replay stay quiet until the flame-up?

    python -m benchmarks.demo_alignment

`noroshi run --demo` generates the demo day for the 24 h ending at start-up (JST time of day kept), so the
brand's first morning falls at a different point of its short history depending on the hour. For one end
time per JST hour this replays the day's brand posts (noise excluded) through the production detector as
a brand created at the first post, and prints the incidents opened before the viral post (false) and the
delay from the viral post to the first volume and negativity incidents.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from collectors.sources.demo.generate import generate
from collectors.sources.demo.timeline import INCIDENT_AFTER, JST
from detectors import BucketPoint, DetectorConfig, replay

FIRST_END = datetime(2026, 11, 20, 15, 17, tzinfo=UTC)  # 00:17 JST; then one end per hour


def day_points(end: datetime) -> list[BucketPoint]:
    """5-minute buckets of the brand posts of the demo day ending at `end`."""
    per: dict[datetime, list] = defaultdict(lambda: [0, 0, set()])
    for row in generate(start=end - timedelta(days=1)):
        if row["topic"] == "noise":
            continue
        at = datetime.fromisoformat(row["posted_at"])
        slot = at.replace(second=0, minute=at.minute - at.minute % 5)
        per[slot][0] += 1
        per[slot][1] += row["sentiment"] == "negative"
        per[slot][2].add(row["author"])
    return [BucketPoint(k, v[0], v[1], len(v[2])) for k, v in sorted(per.items())]


def main() -> int:
    print("`python -m benchmarks.demo_alignment`\n")
    print("| day ends (JST) | incidents before the flame-up | volume after (min) | negativity after (min) |")
    print("|---|---|---|---|")
    false_volume = 0
    for hour in range(24):
        end = FIRST_END + timedelta(hours=hour)
        viral = (end - timedelta(days=1)).replace(second=0) + INCIDENT_AFTER
        signals = [s for s in replay(day_points(end), DetectorConfig()) if not s.escalation]
        early = [f"{s.kind} {s.at.astimezone(JST):%H:%M}" for s in signals if s.at < viral]
        false_volume += any(s.kind == "volume" and s.at < viral for s in signals)
        after = {
            kind: next(
                (
                    f"{(s.at - viral).total_seconds() / 60 + 5:.0f}"
                    for s in signals
                    if s.kind == kind and s.at >= viral
                ),
                "–",
            )
            for kind in ("volume", "negativity")
        }
        print(
            f"| {end.astimezone(JST):%H:%M} | {', '.join(early) or '–'} | {after['volume']} |"
            f" {after['negativity']} |"
        )
    print(f"\nend times with a false volume incident: {false_volume} of 24")
    return 0


if __name__ == "__main__":
    sys.exit(main())
