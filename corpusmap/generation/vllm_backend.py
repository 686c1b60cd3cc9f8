"""The vLLM backend: same requests, same row schema, vLLM's offline engine.

Prompts are tokenized by corpusmap with the model's Hugging Face tokenizer (so
``prompt_token_ids`` mean the same for both engines) and passed to
``vllm.LLM.generate`` as token prompts, one ``SamplingParams`` per row carrying
the row seed (vLLM seeds a generator per request, so a row does not depend on
its batch) and ``logprobs=0`` (vLLM then returns the chosen token's
log-probability). The engine is asked for raw log-probabilities
(``logprobs_mode="raw_logprobs"``) where the installed vLLM knows the option,
matching the transformers backend's definition.

A ``.gguf`` model is handed to vLLM as the file, with the tokenizer saved to a
temporary folder next to it; vLLM's GGUF support covers fewer quantizations and
architectures than transformers'.

On Ray (``ray_generate.py``) each GPU's replica builds this backend as a local run
does; the driver makes it with ``load=False`` and never builds an engine.

Left out: tensor parallelism and other engine options (edit ``_engine_kwargs``),
streaming.
"""

from __future__ import annotations

import tempfile
import time
from typing import Any

from corpusmap.errors import CorpusmapError, require
from corpusmap.generation.model import ModelSource
from corpusmap.generation.params import Sampling
from corpusmap.generation.schema import Completion, Request
from corpusmap.generation.transformers_backend import OnBatch

_ENGINES: dict[tuple[str, str], Any] = {}


def require_vllm() -> Any:
    """Import vllm or raise MissingDependencyError with ``pip install 'corpusmap[vllm]'``."""
    return require("vllm", "vllm")


def _engine_kwargs(source: ModelSource, tokenizer: Any, dtype: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"dtype": dtype, "seed": 0}
    if source.kind == "gguf":
        folder = tempfile.mkdtemp(prefix="corpusmap-vllm-tok-")
        tokenizer.save_pretrained(folder)
        kwargs |= {"model": f"{source.path}/{source.gguf_file}", "tokenizer": folder}
    else:
        kwargs["model"] = source.path
    return kwargs


def load_engine(source: ModelSource, tokenizer: Any, dtype: str) -> Any:
    """A cached ``vllm.LLM`` for this model and dtype."""
    vllm = require_vllm()
    key = (f"{source.kind}:{source.path}:{source.gguf_file}", dtype)
    if key not in _ENGINES:
        kwargs = _engine_kwargs(source, tokenizer, dtype)
        try:
            engine = vllm.LLM(**kwargs, logprobs_mode="raw_logprobs")
        except TypeError:  # older vLLM: no logprobs_mode (V0 returned raw logprobs)
            engine = vllm.LLM(**kwargs)
        _ENGINES[key] = engine
    return _ENGINES[key]


class VLLMBackend:
    """Generate with vLLM's offline engine (see the module docstring)."""

    name = "vllm"

    def __init__(
        self, source: ModelSource, tokenizer: Any, sampling: Sampling, dtype: str, load: bool = True
    ) -> None:
        self.vllm = require_vllm()
        self.sampling = sampling
        self._engine_args = (source, tokenizer, dtype)
        self._llm = load_engine(*self._engine_args) if load else None

    @property
    def llm(self) -> Any:
        """The ``vllm.LLM`` (built on first use when the backend was made with ``load=False``)."""
        if self._llm is None:
            self._llm = load_engine(*self._engine_args)
        return self._llm

    def _params(self, seed: int) -> Any:
        s = self.sampling
        return self.vllm.SamplingParams(
            n=1,
            temperature=s.temperature,
            top_p=s.top_p,
            top_k=s.top_k if s.top_k > 0 else -1,
            max_tokens=s.max_new_tokens,
            seed=seed,
            logprobs=0,
            stop=list(s.stop) or None,
            skip_special_tokens=True,
        )

    def run(self, requests: list[Request], on_batch: OnBatch | None = None) -> list[Completion]:
        """Completions for ``requests``, in the same order (vLLM schedules the batch)."""
        start = time.perf_counter()
        prompts = [{"prompt_token_ids": r.prompt_ids} for r in requests]
        params = [self._params(r.seed) for r in requests]
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        per_row = (time.perf_counter() - start) / max(1, len(requests))
        completions = [_completion(o.outputs[0], per_row) for o in outputs]
        if on_batch is not None:
            on_batch(len(requests), sum(len(c.token_ids) for c in completions))
        return completions


def _completion(out: Any, seconds: float) -> Completion:
    """Our record from a vLLM ``CompletionOutput``."""
    token_ids = [int(t) for t in out.token_ids]
    if out.logprobs is None or len(out.logprobs) < len(token_ids):
        raise CorpusmapError("vLLM returned no log-probabilities; this vLLM version is unsupported")
    logprobs = [float(step[t].logprob) for step, t in zip(out.logprobs, token_ids, strict=False)]
    reason = "stop" if out.finish_reason == "stop" else "length"
    return Completion(token_ids, logprobs, reason, str(out.text), seconds)
