"""A stand-in ``vllm`` that Ray workers can import: the fake of tests/generation.

Its engine and sampling parameters are those of
``tests/generation/test_vllm_backend.py`` (outputs determined by each row's seed,
log-probs -0.25 per step); only the module is new, so that worker processes,
which do not see the test's ``sys.modules``, find it on ``PYTHONPATH``. Each
engine built appends one JSON line to ``$CORPUSMAP_FAKE_VLLM_LOG`` (process id,
the GPUs Ray made visible, the engine options), so a test can tell where and how
the engines were built. While the file named by ``$CORPUSMAP_FAKE_VLLM_FAIL``
exists, building an engine fails as a missing model would.
"""

from __future__ import annotations

import json
import os
from typing import Any

from tests.generation.test_vllm_backend import FakeLLM, SamplingParams

__all__ = ["LLM", "SamplingParams"]


def LLM(**kwargs: Any) -> FakeLLM:  # vllm's name
    fail = os.environ.get("CORPUSMAP_FAKE_VLLM_FAIL")
    if fail and os.path.exists(fail):
        raise RuntimeError(f"fake vllm cannot load {kwargs.get('model')}")
    log = os.environ.get("CORPUSMAP_FAKE_VLLM_LOG")
    if log:
        entry = {"pid": os.getpid(), "gpus": os.environ.get("CUDA_VISIBLE_DEVICES"), **kwargs}
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
    return FakeLLM(kwargs)
