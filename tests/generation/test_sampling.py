"""pick_tokens against an obvious reference: frequencies follow the filtered softmax.

Worked example: logits ``log([0.5, 0.3, 0.15, 0.05])`` at temperature 1 with
top_p=0.7 keep tokens 0 and 1 (mass before token 1 is 0.5 < 0.7, before token 2 is
0.8 >= 0.7), renormalised to ``[0.625, 0.375]``; top_k=3 keeps
``[0.5, 0.3, 0.15] / 0.95``.
"""

from __future__ import annotations

import pytest

from corpusmap.generation.decode import cut_at_stop, pick_tokens
from corpusmap.generation.params import Sampling, row_seed

torch = pytest.importorskip("torch")
PROBS = [0.5, 0.3, 0.15, 0.05]


def frequencies(sampling: Sampling, n: int = 20000) -> list[float]:
    logits = torch.log(torch.tensor([PROBS] * n))
    uniforms = torch.rand(n, generator=torch.Generator().manual_seed(0))
    picks = pick_tokens(logits, uniforms, sampling)
    return [float((picks == t).float().mean()) for t in range(len(PROBS))]


@pytest.mark.parametrize(
    ("sampling", "expected"),
    [
        (Sampling(temperature=1.0), PROBS),
        (Sampling(temperature=1.0, top_p=0.7), [0.625, 0.375, 0, 0]),
        (Sampling(temperature=1.0, top_k=3), [p / 0.95 for p in PROBS[:3]] + [0]),
        (Sampling(temperature=1.0, top_k=1), [1, 0, 0, 0]),
        (Sampling(temperature=1.0, top_p=0.01), [1, 0, 0, 0]),
        (Sampling(temperature=0.0), [1, 0, 0, 0]),
    ],
)
def test_pick_tokens_follows_the_filtered_distribution(sampling, expected):
    assert frequencies(sampling) == pytest.approx(expected, abs=0.015)


def test_temperature_sharpens():
    t = 0.5
    weights = [p ** (1 / t) for p in PROBS]
    expected = [w / sum(weights) for w in weights]
    assert frequencies(Sampling(temperature=t)) == pytest.approx(expected, abs=0.015)


def test_row_seeds_and_stop_cut():
    assert row_seed(0, "a", 0) == row_seed(0, "a", 0)
    seeds = {row_seed(b, p, s) for b in (0, 1) for p in ("a", "b") for s in (0, 1)}
    assert len(seeds) == 8 and all(0 <= x < 2**63 for x in seeds)
    assert cut_at_stop("one two. three", (" three", ".")) == 7
    assert cut_at_stop("nothing", ("x",)) == -1
