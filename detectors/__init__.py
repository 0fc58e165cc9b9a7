"""Pure, causal flame-up detection: bucket counts in, signals out.

Steps (as in Salesforce Merlion): model (`baseline`, `volume`, `negativity`: expected value and an
upper-tail p-value) → `calibration` (one z-like score, thresholds per sensitivity, severity) →
`policy` (persistence, cool-down, one signal per event, escalation). `engine` runs them live
(`detect_tick` on points, `detect_tick_arrays` on `BucketArrays`) and over a whole series (`replay`);
`csvio` reads series files and writes alert JSON.
Imports nothing of the project's other packages.
"""

from detectors.engine import detect_tick, detect_tick_arrays, replay
from detectors.series import BucketArrays
from detectors.state import DetectorState
from detectors.types import BucketPoint, ConfigError, DetectorConfig, Signal, TickResult

__all__ = [
    "BucketArrays",
    "BucketPoint",
    "ConfigError",
    "DetectorConfig",
    "DetectorState",
    "Signal",
    "TickResult",
    "detect_tick",
    "detect_tick_arrays",
    "replay",
]
