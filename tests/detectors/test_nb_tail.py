"""The negative-binomial tails the volume test uses are scipy's `stats.nbinom`, number for number.

`detectors.volume` calls the ufuncs behind `stats.nbinom` directly (much cheaper for the live tick's
few values); these tests hold that path, and the public fallback, to the public methods exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from detectors import volume


def _cases() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    mu = np.concatenate([rng.uniform(0.01, 5, 4000), rng.uniform(5, 5000, 4000), [1e-3, 0.5, 1e4]])
    phi = np.concatenate([rng.uniform(0.005, 2.0, mu.size - 3), [0.005, 0.05, 1.5]])
    observed = np.floor(mu * rng.uniform(0.0, 12.0, mu.size))
    observed[:50] = 0  # the support's edge: P(X >= 0) = 1
    return observed, mu, phi


@pytest.fixture(params=["ufuncs", "public"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "public":  # a scipy without the private ufuncs
        monkeypatch.setattr(volume, "_nbinom_sf", None)
        monkeypatch.setattr(volume, "_nbinom_isf", None)
    return str(request.param)


def test_upper_tail_equals_scipy(path: str) -> None:
    observed, mu, phi = _cases()
    size = 1.0 / phi
    expected = stats.nbinom.sf(observed - 1, size, size / (size + mu))
    got = volume.nb_sf(observed, mu, phi)
    assert np.array_equal(got, expected)
    assert np.all(got[:50] == 1.0)


@pytest.mark.parametrize("pvalue", [1e-9, 2.9e-7 / 3, 0.01, 0.5])
def test_upper_band_equals_scipy(path: str, pvalue: float) -> None:
    _, mu, phi = _cases()
    size = 1.0 / phi
    assert np.array_equal(volume.nb_isf(pvalue, mu, phi), stats.nbinom.isf(pvalue, size, size / (size + mu)))
