"""The token-by-token decoding loop of the transformers backend.

Algorithm, for one batch of requests:

1. Left-pad the prompts to a common length; positions count only real tokens
   (``cumsum(mask) - 1``), so a padded row sees the positions it would see alone.
2. One forward pass over the prompts fills the KV cache; each later step feeds
   the token just chosen with the KV cache (``cache=`` in transformers >= 5.x,
   ``past_key_values=`` before; ``cache_arg`` asks the model's forward which)
   and keeps only the last logits.
3. The next token: argmax when temperature is 0; otherwise logits / temperature,
   top-k and top-p filters, then *inverse-CDF sampling* with one uniform number
   drawn from the row's own ``torch.Generator`` (seeded with the row seed) per step.
4. The recorded log-probability is ``log_softmax`` of the raw logits (temperature
   1, no filtering) at the chosen token: the model's own likelihood of the text,
   comparable across sampling settings and checkable by one forward pass.
5. A row ends on an eos id (kept in ``token_ids``), when its decoded text contains
   a stop string (ids kept up to the completing token, text cut before the
   string), or after ``max_new_tokens`` (``finish_reason="length"``).

Why a row does not depend on its batch: its random numbers come from its own
generator (one draw per step, whatever the other rows do), padding is masked and
positions ignore it, and other rows never enter its attention. What remains is
float rounding from different matrix shapes (~1e-6 in float32): it moves
log-probs slightly and flips a token only on an exact near-tie. Replay checks
log-probs with a tolerance for that reason.

Left out: dropping finished rows from the batch (they keep decoding pad tokens
until the batch ends; length bucketing keeps that waste small), beam search.
"""

from __future__ import annotations

import inspect
import time
from typing import Any

from corpusmap.errors import require
from corpusmap.generation.params import Sampling
from corpusmap.generation.schema import Completion, Request


def pick_tokens(logits: Any, uniforms: Any, sampling: Sampling) -> Any:
    """Choose one token per row from float32 logits ``(B, V)`` and uniforms ``(B,)``."""
    torch: Any = require("torch", "gen")
    if sampling.greedy:
        return logits.argmax(-1)
    x = logits / sampling.temperature
    vocab = x.shape[-1]
    if 0 < sampling.top_k < vocab:
        kth = x.topk(sampling.top_k, dim=-1).values[:, -1:]
        x = x.masked_fill(x < kth, float("-inf"))
    probs = x.softmax(-1)
    order = None
    if sampling.top_p < 1.0:
        probs, order = probs.sort(dim=-1, descending=True, stable=True)
        mass_before = probs.cumsum(-1) - probs  # subtle: the top token always survives
        probs = probs.masked_fill(mass_before >= sampling.top_p, 0.0)
    cdf = probs.cumsum(-1)
    target = uniforms.to(cdf.dtype)[:, None] * cdf[:, -1:]
    j = torch.searchsorted(cdf, target, right=True).clamp(max=vocab - 1)
    return (j if order is None else order.gather(1, j)).squeeze(1)


def cut_at_stop(text: str, stop: tuple[str, ...]) -> int:
    """Index of the first stop string in ``text``, or -1."""
    hits = [i for i in (text.find(s) for s in stop) if i >= 0]
    return min(hits) if hits else -1


def cache_arg(model: Any) -> str:
    """The keyword the model's forward takes the KV cache by: ``cache`` or ``past_key_values``.

    transformers 5.x renamed ``past_key_values`` to ``cache`` (the old name warns,
    and goes in 5.40); older versions know only the old name.
    """
    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def _cache_of(out: Any, name: str) -> Any:
    """The cache a forward returned (the output field has the argument's name)."""
    return getattr(out, name)


def _forward(model: Any, keep_last: bool, **kwargs: Any) -> Any:
    if keep_last:
        kwargs["logits_to_keep"] = 1
    return model(**kwargs)


def decode_batch(
    model: Any,
    tokenizer: Any,
    requests: list[Request],
    sampling: Sampling,
    eos: set[int],
    pad: int,
) -> list[Completion]:
    """Generate one batch (see the module docstring); returns completions in request order."""
    torch: Any = require("torch", "gen")
    start = time.perf_counter()
    device = next(model.parameters()).device
    keep_last = "logits_to_keep" in inspect.signature(model.forward).parameters
    cache = cache_arg(model)
    n, width = len(requests), max(len(r.prompt_ids) for r in requests)
    ids = torch.full((n, width), pad, dtype=torch.long)
    mask = torch.zeros((n, width), dtype=torch.long)
    for i, r in enumerate(requests):
        ids[i, width - len(r.prompt_ids) :] = torch.tensor(r.prompt_ids, dtype=torch.long)
        mask[i, width - len(r.prompt_ids) :] = 1
    ids, mask = ids.to(device), mask.to(device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    gens = [torch.Generator().manual_seed(r.seed) for r in requests]
    tokens: list[list[int]] = [[] for _ in requests]
    logps: list[list[float]] = [[] for _ in requests]
    done = [False] * n
    reason = ["length"] * n
    with torch.inference_mode():
        out = _forward(
            model, keep_last, input_ids=ids, attention_mask=mask, position_ids=positions,
            use_cache=True,
        )  # fmt: skip
        for _ in range(sampling.max_new_tokens):
            logits = out.logits[:, -1, :].float()
            uniforms = torch.tensor([torch.rand(1, generator=g).item() for g in gens])
            chosen = pick_tokens(logits, uniforms.to(device), sampling)
            chosen_lp = torch.log_softmax(logits, -1).gather(1, chosen[:, None]).squeeze(1)
            for i, (tok, lp) in enumerate(zip(chosen.tolist(), chosen_lp.tolist(), strict=True)):
                if done[i]:
                    continue
                tokens[i].append(tok)
                logps[i].append(lp)
                if tok in eos or _hits_stop(tokenizer, tokens[i], eos, sampling.stop):
                    done[i], reason[i] = True, "stop"
                elif len(tokens[i]) >= sampling.max_new_tokens:
                    done[i] = True
            if all(done):
                break
            feed = torch.tensor([pad if d else t[-1] for d, t in zip(done, tokens, strict=True)])
            mask = torch.cat([mask, mask.new_ones((n, 1))], dim=1)
            positions = positions[:, -1:] + 1
            past = {cache: _cache_of(out, cache)}
            out = _forward(
                model, keep_last, input_ids=feed[:, None].to(device), attention_mask=mask,
                position_ids=positions, use_cache=True, **past,
            )  # fmt: skip
    per_row = (time.perf_counter() - start) / n
    completions = []
    for toks, lps, why in zip(tokens, logps, reason, strict=True):
        text = _text(tokenizer, toks, eos)
        cut = cut_at_stop(text, sampling.stop) if sampling.stop else -1
        if cut >= 0:
            text, why = text[:cut], "stop"
        completions.append(Completion(toks, lps, why, text, per_row))
    return completions


def _hits_stop(tokenizer: Any, token_ids: list[int], eos: set[int], stop: tuple[str, ...]) -> bool:
    return bool(stop) and cut_at_stop(_text(tokenizer, token_ids, eos), stop) >= 0


def _text(tokenizer: Any, token_ids: list[int], eos: set[int]) -> str:
    """Decoded output: eos ids dropped, special tokens skipped."""
    kept = [t for t in token_ids if t not in eos]
    return str(tokenizer.decode(kept, skip_special_tokens=True))
