"""The transformers + torch backend: length-bucketed batches over ``decode_batch``.

Requests are sorted by prompt length (longest first, so an out-of-memory error
shows on the first batch, not after an hour), cut into batches of
``batch_size`` neighbours, decoded, and put back in request order. Sorting only
changes which rows share a batch, which does not change a row (``decode.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from corpusmap.generation.decode import decode_batch
from corpusmap.generation.model import LoadedModel, eos_ids, pad_id
from corpusmap.generation.params import Sampling
from corpusmap.generation.schema import Completion, Request

# Called after each batch with (rows done, tokens generated) for progress bars.
OnBatch = Callable[[int, int], None]


class HFBackend:
    """Generate with a model loaded by :func:`corpusmap.generation.model.load_model`."""

    name = "hf"

    def __init__(self, loaded: LoadedModel, sampling: Sampling, batch_size: int) -> None:
        self.loaded = loaded
        self.sampling = sampling
        self.batch_size = batch_size
        self.eos = eos_ids(loaded.tokenizer, loaded.model)
        self.pad = pad_id(loaded.tokenizer)

    def run(self, requests: list[Request], on_batch: OnBatch | None = None) -> list[Completion]:
        """Completions for ``requests``, in the same order."""
        order = sorted(range(len(requests)), key=lambda i: (-len(requests[i].prompt_ids), i))
        results: list[Completion | None] = [None] * len(requests)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            batch = decode_batch(
                self.loaded.model,
                self.loaded.tokenizer,
                [requests[i] for i in idx],
                self.sampling,
                self.eos,
                self.pad,
            )
            for i, completion in zip(idx, batch, strict=True):
                results[i] = completion
            if on_batch is not None:
                on_batch(len(idx), sum(len(c.token_ids) for c in batch))
        return [c for c in results if c is not None]
