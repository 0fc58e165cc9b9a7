"""Tables of the injected flame-up benchmark (benchmarks/injected.py): bursts, clean series, negativity."""

from __future__ import annotations

import numpy as np


def _summary(records: list[dict]) -> tuple[str, str, str, str, str]:
    lat = [r["latency"] for r in records if r["latency"] is not None]
    seen = [r["from_visible"] for r in records if r.get("from_visible") is not None]
    recall = f"{100 * len(lat) / len(records):.0f} % ({len(lat)}/{len(records)})" if records else "–"
    med = f"{np.median(lat):.0f}" if lat else "–"
    p90 = f"{np.percentile(lat, 90):.0f}" if lat else "–"
    med_seen = f"{np.median(seen):.0f}" if seen else "–"
    return recall, med, p90, med_seen, str(len(records))


def _oracle(records: list[dict]) -> str:
    """Oracle recall and median latency (benchmarks/injected_oracle.py): the bound to read latency by."""
    lat = [r["oracle"] for r in records if r.get("oracle") is not None]
    if not records or "oracle" not in records[0]:
        return "–"
    med = f"{np.median(lat):.0f}" if lat else "–"
    return f"{100 * len(lat) / len(records):.0f} %, {med}"


def report(records: list[dict], command: str, seconds: float) -> str:
    lines = [
        f"`{command}`",
        "",
        "| events | volume | n | recall | median latency (min) | p90 latency (min) | median from 2× (min) "
        "| oracle: recall, median (min) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    tiers = ("NAB", "synthetic low", "synthetic medium", "synthetic high")

    def tier_of(r: dict) -> str:
        return next(t for t in tiers if r["base"].startswith(t))

    groups: list[tuple[str, list[dict]]] = []
    bursts = [r for r in records if r["scenario"] == "burst"]
    goal = [r for r in bursts if r["magnitude"] >= 3 and r["ramp"] <= 60]
    groups.append(("**goal class: ≥ 3× within 1 h**", goal))
    for m in sorted({r["magnitude"] for r in bursts}):
        for ramp in sorted({r["ramp"] for r in bursts}):
            groups.append(
                (
                    f"burst {m:.0f}× over {ramp} min",
                    [r for r in bursts if r["magnitude"] == m and r["ramp"] == ramp],
                )
            )
    groups.append(("burst with negativity shift", [r for r in bursts if r["negative_shift"]]))
    for label, group in groups:
        for tier in ("all", *tiers):
            sub = group if tier == "all" else [r for r in group if tier_of(r) == tier]
            if not sub or (tier != "all" and not label.startswith("**")):
                continue
            recall, med, p90, med_seen, n = _summary(sub)
            oracle = _oracle(sub)
            lines.append(f"| {label} | {tier} | {n} | {recall} | {med} | {p90} | {med_seen} | {oracle} |")
    head = (
        "| clean series | brand-weeks | false incidents | per brand-week | of which volume (per week) "
        "| all pages incl. escalations, new waves (per week) |"
    )
    lines += ["", head, "|---|---|---|---|---|---|"]
    clean = [r for r in records if r["scenario"] == "clean"]
    for tier in ("all", *tiers):
        sub = clean if tier == "all" else [r for r in clean if tier_of(r) == tier]
        if sub:
            weeks = sum(r["weeks"] for r in sub)
            false = sum(r["false"] for r in sub)
            volume = false - sum(r["false_negativity"] for r in sub)
            pages = sum(r["pages"] for r in sub)
            waves = sum(r["reflares"] for r in sub)
            lines.append(
                f"| {tier} | {weeks:.1f} | {false} | {false / weeks:.2f} | {volume} ({volume / weeks:.2f}) "
                f"| {pages}, of which {waves} new waves ({pages / weeks:.2f}) |"
            )
    lines += negativity_report(records, tier_of)
    lines.append(f"\n{seconds:.0f} s wall clock")
    return "\n".join(lines)


def _share_label(r: dict, tier: str) -> str:
    if tier == "NAB":
        return "own"
    return f"{100 * r['base_share']:.0f} %" + (f" + {r['tone']} tone" if r.get("tone") else "")


def negativity_report(records: list[dict], tier_of) -> list[str]:
    """Recall within 1 h by volume × shift × baseline share; false negativity incidents on clean series."""
    events = [r for r in records if r["scenario"] == "negativity"]
    head = "| volume | baseline share | shift | n | recall ≤ 1 h | median latency (min) | p90 latency (min) |"
    lines = [
        "",
        "Negativity shifts (3 h on steady volume)",
        "",
        head + " recall ≤ 3 h | oracle recall ≤ 1 h |",
        "|---" * 9 + "|",
    ]
    cells: dict[tuple[str, str, str], list[dict]] = {}
    for r in events:
        share = _share_label(r, tier_of(r))
        shift = f"+{100 * r['shift']:.0f}"
        # the brands with a usual tone have their own rows: "all" stays comparable with earlier tables
        every = (f"all, {r['tone_group']}", "all") if r.get("tone") else ("all", "all")
        keys = [(tier_of(r), share, shift), (*every, shift)]
        if tier_of(r) == "synthetic low" and r["rate"] >= 20 and not r.get("tone"):
            keys.append(("synthetic low, ≥ 20 posts/h at onset", "all", shift))
        if r.get("off_day_onset"):  # only with --first-event-day 12: the default onsets are working days
            keys.append((f"{tier_of(r)}, onset on Saturday or Sunday", share, shift))
        for key in keys:
            cells.setdefault(key, []).append(r)
    for (tier, share, shift), sub in sorted(cells.items(), key=lambda kv: (kv[0][0] != "all", kv[0])):
        within = [
            r if r["latency"] is not None and r["latency"] <= 60 else {**r, "latency": None} for r in sub
        ]
        recall, med, p90, _, n = _summary(within)
        late = 100 * sum(r["latency"] is not None for r in sub) / len(sub)
        oracle = 100 * sum(r.get("oracle") is not None and r["oracle"] <= 60 for r in sub) / len(sub)
        lines.append(
            f"| {tier} | {share} | {shift} | {n} | {recall} | {med} | {p90} | {late:.0f} % | {oracle:.0f} % |"
        )
    lines += [
        "",
        "| clean series | baseline share | brand-weeks | false negativity incidents | per brand-week "
        "| on distinct days |",
    ]
    lines.append("|---|---|---|---|---|---|")
    # NAB brands at their own share; synthetic ones at each of NEG_BASE_SHARES
    nab_or_grid = {"NAB": "clean"}
    clean = [r for r in records if r["scenario"] == nab_or_grid.get(tier_of(r), "negativity_clean")]
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in clean:
        share = _share_label(r, tier_of(r))
        every = (f"all, {r['tone_group']}", "all") if r.get("tone") else ("all", "all")
        for key in ((tier_of(r), share), every):
            groups.setdefault(key, []).append(r)
    for (tier, share), sub in sorted(groups.items(), key=lambda kv: (kv[0][0] != "all", kv[0])):
        weeks = sum(r["weeks"] for r in sub)
        false = sum(r["false_negativity"] for r in sub)
        days = len({(r["seed"], day) for r in sub for day in r["false_negativity_days"]})
        lines.append(f"| {tier} | {share} | {weeks:.1f} | {false} | {false / weeks:.2f} | {days} |")
    lines += [
        "",
        "On distinct days: the days (of a seed) on which those incidents began. The series of one seed share "
        "their days' tones and their random draws, so one unusual day often alarms several of them.",
    ]
    return lines
