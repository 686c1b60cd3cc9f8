"""Generations x index: spans, coverage, novelty, near-duplicates, extraction.

``classify`` (in ``run.py``) is the stage's entry point; ``score.py`` computes one
shard's rows from matching statistics; ``measures.py`` holds the compiled kernels.
"""

from corpusmap.match.run import classify

__all__ = ["classify"]
