"""The statistics every pattern row carries: G², p-values, log-ratio, keyness, divergence.

A pattern seen ``a`` times in ``n_a`` opportunities (n-gram positions) of the
generations and ``b`` times in ``n_b`` opportunities of the corpus is the 2x2 table::

                   pattern   not pattern
    generations       a        n_a - a
    corpus            b        n_b - b

* ``g2``: Dunning's log-likelihood ratio G² = 2 Σ O ln(O/E) over the four cells,
  with E from the margins (0 ln 0 = 0). Under independence it is χ² with one
  degree of freedom, so ``p = P(χ²₁ >= G²) = erfc(sqrt(G²/2))``. This equals
  ``scipy.stats.chi2_contingency(table, correction=False,
  lambda_="log-likelihood")``.
* ``log_ratio``: ``log2(((a + 0.5) / n_a) / ((b + 0.5) / n_b))``: the ratio of the
  two rates with 0.5 added to each count, so a pattern absent on one side still
  gets a finite value. Positive: more frequent in the generations.
* ``poisson_p_zero``: for an unexpressed pattern, the chance of seeing it zero
  times when ``E`` are expected, ``P(X = 0) = exp(-E)``.
* ``keyness``: the G² of the table with the generation count replaced by the
  number of distinct generations holding the pattern (a pattern a few
  generations repeat over and over does not outrank one spread across many),
  signed: positive when the pattern deviates in the direction its class is about
  (more frequent in generations for shared, idiosyncratic and contingent; rarer
  for unexpressed), negative otherwise. Rows are ranked by it, highest first.
* ``js_divergence``: Jensen-Shannon divergence in bits (0..1) between two
  next-token distributions.

What it leaves out: no multiple-testing correction (p-values are per row; the
thresholds are yours to move), and no dispersion adjustment on the corpus side
(corpus counts are raw occurrences).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _xlogx_over(o: np.ndarray, e: np.ndarray) -> np.ndarray:
    """``o * ln(o / e)`` with 0 where ``o == 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(o > 0, o * np.log(np.where(o > 0, o, 1.0) / np.where(e > 0, e, 1.0)), 0.0)


def g2_stat(
    a: npt.ArrayLike, b: npt.ArrayLike, n_a: npt.ArrayLike, n_b: npt.ArrayLike
) -> np.ndarray:
    """Vectorised G² of the 2x2 tables ``[[a, n_a - a], [b, n_b - b]]``."""
    a, b, n_a, n_b = (np.asarray(x, dtype=np.float64) for x in (a, b, n_a, n_b))
    total = n_a + n_b
    col1 = a + b
    col2 = total - col1
    with np.errstate(divide="ignore", invalid="ignore"):
        e = [n_a * col1 / total, n_a * col2 / total, n_b * col1 / total, n_b * col2 / total]
    cells = [a, n_a - a, b, n_b - b]
    g2 = 2.0 * sum(_xlogx_over(o, ex) for o, ex in zip(cells, e, strict=True))
    return np.where(total > 0, np.maximum(g2, 0.0), 0.0)


def chi2_1_sf(g2: npt.ArrayLike) -> np.ndarray:
    """Upper tail of χ² with one degree of freedom."""
    g2 = np.asarray(g2, dtype=np.float64)
    return _erfc(np.sqrt(np.maximum(g2, 0.0) / 2.0)) if g2.size else g2


def g2_test(
    a: npt.ArrayLike, b: npt.ArrayLike, n_a: npt.ArrayLike, n_b: npt.ArrayLike
) -> tuple[Any, Any]:
    """Dunning's G² and its p-value for ``a`` of ``n_a`` against ``b`` of ``n_b``.

    Example: 10 of 1000 vs 2 of 1000 gives G² = 5.854, p = 0.0155.

    Returns floats for scalar inputs, arrays for array inputs.
    """
    g2 = g2_stat(np.asarray(a), np.asarray(b), np.asarray(n_a), np.asarray(n_b))
    p = chi2_1_sf(np.atleast_1d(g2)).reshape(g2.shape)
    if g2.ndim == 0:
        return float(g2), float(p)
    return g2, p


def log_ratio(
    a: npt.ArrayLike, b: npt.ArrayLike, n_a: npt.ArrayLike, n_b: npt.ArrayLike
) -> np.ndarray:
    """``log2`` of the generations/corpus rate ratio, each count smoothed by +0.5."""
    a, b, n_a, n_b = (np.asarray(x, dtype=np.float64) for x in (a, b, n_a, n_b))
    return np.log2((a + 0.5) / np.maximum(n_a, 1.0)) - np.log2((b + 0.5) / np.maximum(n_b, 1.0))


def poisson_p_zero(expected: npt.ArrayLike) -> np.ndarray:
    """``P(X = 0)`` for ``X ~ Poisson(expected)``: the p-value of never seeing it."""
    return np.exp(-np.asarray(expected, dtype=np.float64))


def keyness(
    n_gen: npt.ArrayLike,
    b: npt.ArrayLike,
    n_a: npt.ArrayLike,
    n_b: npt.ArrayLike,
    over: npt.ArrayLike,
) -> np.ndarray:
    """Signed G² on distinct generations (see module docstring).

    Args:
        n_gen: distinct generations holding the pattern (replaces the count).
        b, n_a, n_b: corpus count and the two opportunity totals.
        over: per row, True when the class is about over-use in the generations.
    """
    n_gen, b, n_a, n_b = (np.asarray(x, dtype=np.float64) for x in (n_gen, b, n_a, n_b))
    g2 = g2_stat(n_gen, b, n_a, n_b)
    more = n_gen * np.maximum(n_b, 1.0) > b * np.maximum(n_a, 1.0)
    return np.where(more == np.asarray(over, dtype=bool), g2, -g2)


def js_divergence(p: Mapping[int, float], q: Mapping[int, float]) -> float:
    """Jensen-Shannon divergence in bits between two distributions over token ids."""
    keys = sorted(set(p) | set(q))
    if not keys:
        return 0.0
    pa = np.array([p.get(k, 0.0) for k in keys], dtype=np.float64)
    qa = np.array([q.get(k, 0.0) for k in keys], dtype=np.float64)
    pa, qa = pa / max(pa.sum(), 1e-300), qa / max(qa.sum(), 1e-300)
    m = 0.5 * (pa + qa)

    def kl(x: np.ndarray) -> float:
        nz = x > 0
        return float(np.sum(x[nz] * np.log2(x[nz] / m[nz])))

    return max(0.0, 0.5 * kl(pa) + 0.5 * kl(qa))
