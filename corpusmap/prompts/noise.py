"""Prompt perturbations for robustness sweeps: how much does a small change matter?

Each kind changes about ``rate`` of the eligible characters, reproducibly from a
seed: ``char-swap`` swaps a letter with its right neighbour, ``char-drop`` deletes
it, ``case`` flips its case, ``whitespace`` doubles a space or removes it. What it
leaves out: no token-level or semantic perturbations (paraphrase, synonyms).
"""

from __future__ import annotations

import random

from corpusmap.errors import CorpusmapError

NOISE_KINDS = ("char-swap", "char-drop", "case", "whitespace")


def perturb(text: str, kind: str, rate: float, seed: int) -> str:
    """``text`` with about ``rate`` of its eligible characters perturbed by ``kind``."""
    if kind not in NOISE_KINDS:
        raise CorpusmapError(f"unknown noise {kind!r}; choose one of {', '.join(NOISE_KINDS)}")
    if not 0.0 <= rate <= 1.0:
        raise CorpusmapError(f"--noise-rate must be within 0..1, got {rate}")
    rng = random.Random(seed)
    chars = list(text)
    if kind == "whitespace":
        out = []
        for c in chars:
            if c == " " and rng.random() < rate:
                out.append("  " if rng.random() < 0.5 else "")
            else:
                out.append(c)
        return "".join(out)
    i = 0
    out = []
    while i < len(chars):
        c = chars[i]
        if c.isalpha() and rng.random() < rate:
            if kind == "char-drop":
                i += 1
                continue
            if kind == "case":
                out.append(c.swapcase())
            elif i + 1 < len(chars):  # char-swap
                out.extend([chars[i + 1], c])
                i += 2
                continue
            else:
                out.append(c)
        else:
            out.append(c)
        i += 1
    return "".join(out)
