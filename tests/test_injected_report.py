"""The injected benchmark's report counts false negativity incidents per day as well as per series: the
synthetic series of one seed share their days' tones, so one unusual day alarms several of them."""

from __future__ import annotations

from benchmarks.injected_report import negativity_report


def _clean(base: str, seed: int, share: float, days: list[int]) -> dict:
    return {
        "base": base,
        "seed": seed,
        "scenario": "negativity_clean",
        "weeks": 4.9,
        "false_negativity": len(days),
        "false_negativity_days": days,
        "base_share": share,
        "tone": None,
        "tone_group": "",
    }


def test_false_incidents_on_the_same_day_of_a_seed_count_once_as_a_day() -> None:
    records = [
        _clean("synthetic high #5", 5, 0.05, [33]),
        _clean("synthetic medium #5", 5, 0.15, [33, 15]),
        _clean("synthetic high #6", 6, 0.05, [33]),
    ]
    lines = negativity_report(records, lambda r: r["base"].rsplit(" #", 1)[0])
    all_row = next(line for line in lines if line.startswith("| all | all |"))
    # four incidents, on three distinct days: seed 5's day 33 (twice), its day 15, seed 6's day 33
    assert all_row.split("|")[4:7] == [" 4 ", " 0.27 ", " 3 "], all_row
    high_row = next(line for line in lines if line.startswith("| synthetic high | 5 % |"))
    assert high_row.split("|")[4:7] == [" 2 ", " 0.20 ", " 2 "], high_row
