"""Per-generation measures computed from matching statistics, compiled.

Everything here starts from ``ms``, the matching statistics of a generation
against the corpus (``ms[i]`` = length of the longest prefix of ``out[i:]`` that
occurs in the corpus), stored flat for a batch with boundaries ``offs``:

* a **maximal span** starts at i when ``ms[i] >= L_min`` and it cannot be extended
  to the left, i.e. ``i`` is the first position or ``ms[i-1] <= ms[i]`` (if the
  match at i-1 were longer it would contain ours);
* **coverage@L** is the fraction of positions inside some match ``[i, i+ms[i])``
  with ``ms[i] >= L``;
* **novelty@n** is the fraction of the ``len-n+1`` n-grams that are absent from the
  corpus: the n-gram at i occurs iff ``ms[i] >= n``, so no extra query is needed;
* **prompt matching** ``mp[i]`` is the longest prefix of ``out[i:]`` found in the
  prompt (a naive scan: prompts are short); a span is copied from the prompt when
  ``mp[start] >= length``;
* **self-repetition@n** is the fraction of a generation's n-grams that repeat an
  earlier n-gram of the same generation (degenerate loops);
* **extraction** compares the output's first tokens with the true continuation.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange


@numba.njit(cache=True, parallel=True)
def coverage(ms, offs, lengths):  # type: ignore[no-untyped-def]
    """(n_seqs, n_lengths) fraction of tokens covered by matches of length >= L."""
    n = offs.shape[0] - 1
    out = np.full((n, lengths.shape[0]), np.nan)
    for k in prange(n):
        s, e = offs[k], offs[k + 1]
        if e == s:
            continue
        for j in range(lengths.shape[0]):
            L = lengths[j]
            reach = s
            covered = 0
            for i in range(s, e):
                if ms[i] >= L and i + ms[i] > reach:
                    reach = i + ms[i]
                if i < reach:
                    covered += 1
            out[k, j] = covered / (e - s)
    return out


@numba.njit(cache=True, parallel=True)
def novelty(ms, offs, max_n):  # type: ignore[no-untyped-def]
    """(n_seqs, max_n) fraction of n-grams (n = 1..max_n) absent from the corpus; NaN if none."""
    n = offs.shape[0] - 1
    out = np.full((n, max_n), np.nan)
    for k in prange(n):
        s, e = offs[k], offs[k + 1]
        for g in range(1, max_n + 1):
            total = e - s - g + 1
            if total <= 0:
                continue
            absent = 0
            for i in range(s, s + total):
                if ms[i] < g:
                    absent += 1
            out[k, g - 1] = absent / total
    return out


@numba.njit(cache=True, parallel=True)
def prompt_matching(out_flat, out_offs, prompt_flat, prompt_offs):  # type: ignore[no-untyped-def]
    """Per output position, the longest prefix of out[i:] occurring in the prompt."""
    res = np.zeros(out_flat.shape[0], dtype=np.int64)
    for k in prange(out_offs.shape[0] - 1):
        s, e = out_offs[k], out_offs[k + 1]
        ps, pe = prompt_offs[k], prompt_offs[k + 1]
        for i in range(s, e):
            best = 0
            for j in range(ps, pe):
                length = 0
                while (
                    i + length < e
                    and j + length < pe
                    and out_flat[i + length] == prompt_flat[j + length]
                ):
                    length += 1
                if length > best:
                    best = length
            res[i] = best
    return res


@numba.njit(cache=True, parallel=True)
def self_repetition(flat, offs, n):  # type: ignore[no-untyped-def]
    """Fraction of each sequence's n-grams that repeat an earlier one in it; NaN if none."""
    m = offs.shape[0] - 1
    out = np.full(m, np.nan)
    for k in prange(m):
        s, e = offs[k], offs[k + 1]
        total = e - s - n + 1
        if total <= 0:
            continue
        hashes = np.empty(total, dtype=np.uint64)
        for i in range(total):
            h = np.uint64(1469598103934665603)
            for j in range(n):
                h = (h ^ np.uint64(flat[s + i + j] + 1)) * np.uint64(1099511628211)
            hashes[i] = h
        hashes.sort()
        distinct = 1
        for i in range(1, total):
            if hashes[i] != hashes[i - 1]:
                distinct += 1
        out[k] = (total - distinct) / total
    return out


def span_starts(ms: np.ndarray, offs: np.ndarray, min_span: int) -> tuple[np.ndarray, np.ndarray]:
    """(sequence index, flat position) of every maximal span of length >= ``min_span``."""
    if ms.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    first = np.zeros(ms.size, dtype=bool)
    first[offs[:-1][offs[:-1] < ms.size]] = True
    prev = np.concatenate([[0], ms[:-1]])
    left_maximal = first | (prev <= ms)
    pos = np.flatnonzero((ms >= min_span) & left_maximal)
    seq = np.searchsorted(offs, pos, side="right") - 1
    return seq.astype(np.int64), pos.astype(np.int64)


def extraction(
    out_tokens: list[np.ndarray], cont_tokens: list[np.ndarray | None]
) -> tuple[list, list]:
    """Per generation: leading tokens equal to the true continuation, and the match fraction.

    Returns ``(prefix_match, token_match_fraction)``; both None where no continuation.
    ``prefix_match >= k`` is Carlini et al.'s k-extractable; the fraction is Pythia's.
    """
    prefix: list[int | None] = []
    frac: list[float | None] = []
    for out, cont in zip(out_tokens, cont_tokens, strict=True):
        if cont is None or len(cont) == 0:
            prefix.append(None)
            frac.append(None)
            continue
        k = len(cont)
        head = out[:k]
        eq = np.zeros(k, dtype=bool)
        eq[: len(head)] = head == cont[: len(head)]
        mism = np.flatnonzero(~eq)
        prefix.append(int(mism[0]) if mism.size else k)
        frac.append(float(eq.mean()))
    return prefix, frac
