"""Mutual information (Miller–Madow) and its bootstrap interval, against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from corpusmap.patterns import bootstrap_mi, mutual_information


def test_hand_computed_dependent() -> None:
    """x = y = [0, 0, 1, 1]: H(X) = H(Y) = H(X, Y) = 1 bit, so the plug-in I = 1 bit.
    Cells: m_x = m_y = m_xy = 2, N = 4, so Miller–Madow adds
    (1 + 1 - 1) / (2 * 4 * ln 2) = 1 / (8 ln 2) = 0.1803 bits."""
    x = y = [0, 0, 1, 1]
    assert mutual_information(x, y, corrected=False) == pytest.approx(1.0)
    assert mutual_information(x, y) == pytest.approx(1 + 1 / (8 * math.log(2)))


def test_hand_computed_independent() -> None:
    """x = [0, 0, 1, 1], y = [0, 1, 0, 1]: every pair once, I = 0; m_xy = 4, so
    Miller–Madow gives (1 + 1 - 3) / (8 ln 2) = -0.1803 bits."""
    x, y = [0, 0, 1, 1], [0, 1, 0, 1]
    assert mutual_information(x, y, corrected=False) == pytest.approx(0.0, abs=1e-12)
    assert mutual_information(x, y) == pytest.approx(-1 / (8 * math.log(2)))


def test_three_by_two_hand_computed() -> None:
    """x = a a b b c c, y = 0 0 0 1 1 1: H(X) = log2 3, H(Y) = 1; the pairs are
    a0 a0 b0 b1 c1 c1, four cells with counts 2 1 1 2, so
    H(X, Y) = -(2 * 2/6 log2 2/6 + 2 * 1/6 log2 1/6) and I = 2/3 bit."""
    x, y = list("aabbcc"), [0, 0, 0, 1, 1, 1]
    hxy = -(2 * 2 / 6 * math.log2(2 / 6) + 2 * 1 / 6 * math.log2(1 / 6))
    plug = math.log2(3) + 1 - hxy
    assert plug == pytest.approx(2 / 3)
    assert mutual_information(x, y, corrected=False) == pytest.approx(plug)
    mm = plug + ((3 - 1) + (2 - 1) - (4 - 1)) / (2 * 6 * math.log(2))
    assert mutual_information(x, y) == pytest.approx(mm)


def test_bias_correction_reduces_plugin_on_independent_data() -> None:
    rng = np.random.default_rng(0)
    plug, corr = [], []
    for _ in range(50):
        x, y = rng.integers(0, 4, 200), rng.integers(0, 5, 200)
        plug.append(mutual_information(x, y, corrected=False))
        corr.append(mutual_information(x, y))
    plug_a, corr_a = np.array(plug), np.array(corr)
    assert (corr_a < plug_a).all()
    assert abs(corr_a.mean()) < plug_a.mean() / 3  # much closer to the true value 0


def test_strings_and_bools_are_categories() -> None:
    x, y = ["a", "b", "a", "b"], [True, False, True, False]
    assert mutual_information(x, y, corrected=False) == pytest.approx(1.0)


def test_bootstrap_interval() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 2, 2000)
    y = np.where(rng.random(2000) < 0.9, x, 1 - x)  # a noisy copy
    mi = mutual_information(x, y)
    low, high = bootstrap_mi(x, y, n_boot=300, seed=7)
    assert low < mi < high
    assert low > 0.3 and high < 0.7  # 1 - H(0.1) = 0.531 bits
    assert bootstrap_mi(x, y, n_boot=300, seed=7) == (low, high)  # seeded: reproducible


def test_empty_and_mismatched() -> None:
    assert mutual_information([], []) == 0.0
    with pytest.raises(ValueError, match="differ in length"):
        mutual_information([0, 1], [0])
