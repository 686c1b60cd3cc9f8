"""Mutual information in bits, bias-corrected, with a bootstrap interval.

The explanatory power of a behaviour is the mutual information between it (on
the prompt) and a feature of the output: how many bits knowing one tells about
the other. From a sample of ``N`` pairs the plug-in estimate

    I = H(X) + H(Y) - H(X, Y),   H = -Σ p log2 p over the observed frequencies,

is biased upwards (it is positive even for independent variables). The
Miller–Madow correction adds ``(m - 1) / (2 N ln 2)`` bits to each entropy, ``m``
being the number of non-empty cells, which removes the first-order bias:

    I_MM = I + [(m_x - 1) + (m_y - 1) - (m_xy - 1)] / (2 N ln 2).

For independent variables ``m_xy ≈ m_x m_y`` and the correction is negative, so
I_MM can dip slightly below zero; it is reported as is (clipping would bias it
again). Worked example: x = y = [0, 0, 1, 1] gives I = 1 bit and
I_MM = 1 + 1 / (8 ln 2) = 1.180 bits.

The bootstrap resamples the ``N`` pairs with replacement, which is the same as
drawing the joint cell counts from a multinomial with the observed cell
frequencies; that is what ``bootstrap_mi`` does, so it costs nothing per pair.
The interval is the percentile interval of I_MM over the resamples.

What it leaves out: continuous variables (discretise them first, e.g. a
threshold like ``copied>=32``) and other estimators (NSB, jackknife).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

_LN2 = np.log(2.0)


def _codes(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == object:
        arr = np.asarray([repr(v) for v in values])
    return np.unique(arr, return_inverse=True)[1].reshape(-1)


def joint_table(x: Sequence[Any] | np.ndarray, y: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Counts of each (x, y) value pair: a ``|X| x |Y|`` table."""
    cx, cy = _codes(x), _codes(y)
    if cx.shape != cy.shape:
        raise ValueError(f"x and y differ in length ({cx.size} vs {cy.size})")
    if cx.size == 0:
        return np.zeros((0, 0), dtype=np.int64)
    table = np.zeros((int(cx.max()) + 1, int(cy.max()) + 1), dtype=np.int64)
    np.add.at(table, (cx, cy), 1)
    return table


def _entropy_bits(counts: np.ndarray, n: np.ndarray, corrected: bool) -> np.ndarray:
    """Entropy of each row of ``counts`` (last axis = cells), in bits."""
    c = counts.astype(np.float64)
    nn = n[..., None].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(c > 0, c / nn, 0.0)
        h = -np.sum(np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0), axis=-1)
    if corrected:
        h = h + (np.count_nonzero(c, axis=-1) - 1) / (2.0 * n * _LN2)
    return h


def mi_from_tables(tables: np.ndarray, corrected: bool = True) -> np.ndarray:
    """Mutual information in bits of each joint count table (``[..., |X|, |Y|]``)."""
    t = np.asarray(tables, dtype=np.int64)
    n = t.sum(axis=(-2, -1))
    safe = np.maximum(n, 1)
    hx = _entropy_bits(t.sum(axis=-1), safe, corrected)
    hy = _entropy_bits(t.sum(axis=-2), safe, corrected)
    hxy = _entropy_bits(t.reshape(*t.shape[:-2], -1), safe, corrected)
    return np.where(n > 0, hx + hy - hxy, 0.0)


def mutual_information(
    x: Sequence[Any] | np.ndarray, y: Sequence[Any] | np.ndarray, *, corrected: bool = True
) -> float:
    """I(X; Y) in bits of paired discrete samples (Miller–Madow unless ``corrected=False``)."""
    table = joint_table(x, y)
    if table.size == 0:
        return 0.0
    return float(mi_from_tables(table, corrected))


def bootstrap_mi(
    x: Sequence[Any] | np.ndarray,
    y: Sequence[Any] | np.ndarray,
    *,
    n_boot: int = 200,
    level: float = 0.95,
    seed: int = 0,
    corrected: bool = True,
) -> tuple[float, float]:
    """Percentile bootstrap interval ``(low, high)`` of the mutual information in bits.

    Args:
        x, y: paired discrete samples.
        n_boot: number of resamples.
        level: coverage of the interval (0.95: the 2.5% and 97.5% percentiles).
        seed: seeds the resampling, so the interval is reproducible.
        corrected: use the Miller–Madow estimate (as ``mutual_information``).
    """
    table = joint_table(x, y)
    n = int(table.sum())
    if n == 0:
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, (table / n).reshape(-1), size=n_boot).reshape(n_boot, *table.shape)
    mis = mi_from_tables(draws, corrected)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(mis, [tail, 1.0 - tail])
    return float(low), float(high)
