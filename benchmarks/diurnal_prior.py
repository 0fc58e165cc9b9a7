"""Recompute the population time-of-day curve (`detectors.diurnal.POPULATION_CURVE`) from NAB realTweets.

    python -m benchmarks.diurnal_prior [--data DIR]

Per series and day: hourly sums ÷ that day's mean hour (complete days only); per series: the median over
days; over the series: the geometric mean, normalised to mean 1; then read in the audience's local time
(UTC → US Eastern daylight time). Prints the curve next to the constant the detector uses.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.nab import DEFAULT_DATA
from detectors.diurnal import AUDIENCE_UTC_OFFSET_HOURS, POPULATION_CURVE


def series_shape(path: Path) -> np.ndarray:
    """Median over complete days of the day-normalised hourly sums, by UTC hour."""
    frame = pd.read_csv(path, parse_dates=["timestamp"])
    frame["day"] = frame["timestamp"].dt.date
    frame["hour"] = frame["timestamp"].dt.hour
    hourly = frame.groupby(["day", "hour"])["value"].sum().unstack().dropna()
    normalised = hourly.div(hourly.mean(axis=1), axis=0)
    shape = normalised.median().to_numpy(dtype=np.float64)
    return shape / shape.mean()


def population_curve(data: Path) -> np.ndarray:
    shapes = [series_shape(path) for path in sorted(data.glob("Twitter_volume_*.csv"))]
    if not shapes:
        raise FileNotFoundError(f"no Twitter_volume_*.csv under {data}")
    utc = np.exp(np.mean(np.log(np.vstack(shapes)), axis=0))
    utc /= utc.mean()
    return np.roll(utc, AUDIENCE_UTC_OFFSET_HOURS)  # index = local hour


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"NAB data not found at {args.data} (see ../shared/README.md); pass --data", file=sys.stderr)
        return 2
    curve = population_curve(args.data)
    print("`python -m benchmarks.diurnal_prior`\n")
    print("| local hour | from the data | detectors.diurnal |")
    print("|---|---|---|")
    for hour, (value, used) in enumerate(zip(curve, POPULATION_CURVE, strict=True)):
        print(f"| {hour:02d} | {value:.2f} | {used:.2f} |")
    worst = float(np.max(np.abs(curve - np.asarray(POPULATION_CURVE))))
    print(f"\nlargest difference {worst:.3f}")
    return 0 if worst <= 0.011 else 1


if __name__ == "__main__":
    sys.exit(main())
