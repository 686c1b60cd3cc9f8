"""G², p-values, log-ratio, keyness and divergence against scipy and hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from corpusmap.patterns import g2_test
from corpusmap.patterns.stats import js_divergence, keyness, log_ratio, poisson_p_zero


def test_g2_hand_computed() -> None:
    """10 of 1000 vs 2 of 1000: margins give E = 6, 994, 6, 994, so
    G² = 2 [10 ln(10/6) + 990 ln(990/994) + 2 ln(2/6) + 998 ln(998/994)] = 5.8543,
    and p = P(χ²₁ >= 5.8543) = erfc(sqrt(5.8543 / 2)) = 0.01554."""
    g2, p = g2_test(10, 2, 1000, 1000)
    hand = 2 * (10 * math.log(10 / 6) + 990 * math.log(990 / 994)
                + 2 * math.log(2 / 6) + 998 * math.log(998 / 994))  # fmt: skip
    assert g2 == pytest.approx(hand, rel=1e-12)
    assert g2 == pytest.approx(5.8543, abs=1e-4)
    assert p == pytest.approx(math.erfc(math.sqrt(hand / 2)), rel=1e-12)
    assert p == pytest.approx(0.01554, abs=1e-5)


@pytest.mark.parametrize(
    "a,b,n_a,n_b",
    [(10, 2, 1000, 1000), (0, 40, 5000, 20000), (6, 0, 6, 40), (3, 7, 50, 9000),
     (120, 15, 10_000, 1_000_000), (1, 1, 2, 3)],
)  # fmt: skip
def test_g2_matches_scipy(a: int, b: int, n_a: int, n_b: int) -> None:
    table = np.array([[a, n_a - a], [b, n_b - b]])
    ref_g2, ref_p, _, _ = chi2_contingency(table, correction=False, lambda_="log-likelihood")
    g2, p = g2_test(a, b, n_a, n_b)
    assert g2 == pytest.approx(ref_g2, rel=1e-9, abs=1e-12)
    assert p == pytest.approx(ref_p, rel=1e-9, abs=1e-300)


def test_g2_vectorised_equals_scalar() -> None:
    rng = np.random.default_rng(1)
    n_a, n_b = rng.integers(50, 5000, 30), rng.integers(50, 5000, 30)
    a, b = rng.integers(0, 50, 30), rng.integers(0, 50, 30)
    g2s, ps = g2_test(a, b, n_a, n_b)
    for i in range(30):
        g2, p = g2_test(int(a[i]), int(b[i]), int(n_a[i]), int(n_b[i]))
        assert g2s[i] == pytest.approx(g2) and ps[i] == pytest.approx(p)


def test_equal_rates_give_zero() -> None:
    g2, p = g2_test(2, 4, 10, 20)
    assert g2 == pytest.approx(0.0, abs=1e-12) and p == pytest.approx(1.0)


def test_log_ratio_smoothing() -> None:
    """Absent in the corpus: log2((3.5 / 100) / (0.5 / 1000)) = log2(70)."""
    assert float(log_ratio(3, 0, 100, 1000)) == pytest.approx(math.log2(70))
    assert float(log_ratio(0, 9, 1000, 1000)) == pytest.approx(math.log2(0.5 / 9.5))


def test_poisson_and_keyness_sign() -> None:
    assert float(poisson_p_zero(5.0)) == pytest.approx(math.exp(-5))
    over = keyness(np.array([5, 0]), np.array([0, 40]), np.array([100, 100]),
                   np.array([1000, 1000]), np.array([True, True]))  # fmt: skip
    assert over[0] > 0 > over[1]  # the second deviates against an over-use class
    under = keyness(np.array([0]), np.array([40]), np.array([100]), np.array([1000]),
                    np.array([False]))  # fmt: skip
    assert under[0] == pytest.approx(-over[1]) and under[0] > 0


def test_js_divergence() -> None:
    assert js_divergence({1: 0.5, 2: 0.5}, {1: 0.5, 2: 0.5}) == pytest.approx(0.0)
    assert js_divergence({1: 1.0}, {2: 1.0}) == pytest.approx(1.0)
    # P = (1, 0), Q = (1/2, 1/2): M = (3/4, 1/4); JS = 1/2 KL(P|M) + 1/2 KL(Q|M)
    hand = 0.5 * math.log2(4 / 3) + 0.5 * (0.5 * math.log2(2 / 3) + 0.5 * math.log2(2))
    assert js_divergence({1: 1.0}, {1: 0.5, 2: 0.5}) == pytest.approx(hand)
