"""Benchmarks run as scripts (`python benchmarks/tick_cost.py`) put benchmarks/ first on sys.path, so a
benchmark module named like an installed package (e.g. `holidays`) would replace it for every import."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_no_benchmark_module_shadows_an_installed_package() -> None:
    names = sorted(p.stem for p in BENCHMARKS.glob("*.py") if p.stem != "__init__")
    assert "tick_cost" in names
    shadowing = [name for name in names if importlib.util.find_spec(name) is not None]
    assert shadowing == [], f"rename these benchmarks: they hide installed packages: {shadowing}"
