"""CPU benchmark: corpusmap's batched generation against a one-prompt-at-a-time loop.

Same model (the embedded SmolLM2-135M-Instruct GGUF, dequantized to float32), same
prompts, greedy decoding, ``--max-new-tokens`` each:

* batched: ``corpusmap.generate`` with ``--batch-size`` (length-bucketed, left-padded,
  KV cache, log-probs recorded, rows written to a Parquet store); its wall time
  includes tokenizing and writing the store.
* naive: ``model.generate(ids, do_sample=False)`` per prompt, the loop people write first.
* corpusmap with batch size 1: separates what batching buys from what the decoding
  loop and the store cost.

Tokens are generated tokens (up to and including eos). The model is loaded once,
before either timing, and each side gets a small warm-up. It also reports how many
rows have identical token ids on both sides (float rounding differs between a batch
and a single row, so a rare near-tie may flip; greedy otherwise agrees).

Run:

    .venv/bin/python scripts/bench_generate.py \
        [--prompts 16] [--max-new-tokens 32] [--batch-size 16] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("CORPUSMAP_PROGRESS", "0")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SEEDS = [
    "The capital of France is",
    "Once upon a time, in a small village,",
    "The best way to learn a new language is",
    "Water boils at",
    "In the beginning God created the heaven and the earth. And the earth was",
    "def quicksort(arr):",
    "The theory of relativity states that",
    "My favourite recipe for pancakes:",
    "The largest planet in the solar system",
    "To be or not to be,",
    "Photosynthesis is the process by which",
    "A haiku about autumn:",
    "The stock market today",
    "How do airplanes fly? Airplanes",
    "The history of the Roman Empire began",
    "List three uses of copper:",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    args = parser.parse_args()

    import torch

    from corpusmap.generation import generate, load_model

    if args.threads:
        torch.set_num_threads(args.threads)
    prompts = [SEEDS[i % len(SEEDS)] for i in range(args.prompts)]
    t0 = time.perf_counter()
    loaded = load_model(args.model)
    print(f"model {args.model}: loaded in {time.perf_counter() - t0:.1f} s "
          f"({loaded.dtype} on {loaded.device}, {torch.get_num_threads()} threads)")  # fmt: skip
    model, tok = loaded.model, loaded.tokenizer

    def ours(batch_size: int, tmp: str) -> tuple[list[dict], float]:
        t0 = time.perf_counter()
        store = generate(
            args.model,
            prompts,
            Path(tmp) / f"G{batch_size}.parquet",
            max_new_tokens=args.max_new_tokens,
            batch_size=batch_size,
        )
        return store.to_arrow().to_pylist(), time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        generate(args.model, prompts[:2], Path(tmp) / "warm", max_new_tokens=4)
        rows, batched_s = ours(args.batch_size, tmp)
        rows1, one_s = ours(1, tmp)
    batched_tokens = sum(r["n_tokens"] for r in rows)
    one_tokens = sum(r["n_tokens"] for r in rows1)

    naive_ids = []
    with torch.inference_mode():
        warm = tok(prompts[0], return_tensors="pt")
        model.generate(**warm, max_new_tokens=4, do_sample=False)
        t0 = time.perf_counter()
        for text in prompts:
            enc = tok(text, return_tensors="pt")
            out = model.generate(
                **enc, max_new_tokens=args.max_new_tokens, do_sample=False, pad_token_id=2
            )
            naive_ids.append(out[0, enc["input_ids"].shape[1] :].tolist())
        naive_s = time.perf_counter() - t0
    naive_tokens = sum(len(x) for x in naive_ids)
    same = sum(r["output_token_ids"] == ids for r, ids in zip(rows, naive_ids, strict=True))

    b_rate, n_rate = batched_tokens / batched_s, naive_tokens / naive_s
    print(f"prompts {len(prompts)} x max {args.max_new_tokens} new tokens, greedy")
    print(f"batched  corpusmap.generate (batch {args.batch_size}): {batched_tokens} tok "
          f"in {batched_s:.2f} s = {b_rate:.1f} tok/s")  # fmt: skip
    print(f"batch 1  corpusmap.generate (batch 1):  {one_tokens} tok "
          f"in {one_s:.2f} s = {one_tokens / one_s:.1f} tok/s")  # fmt: skip
    print(f"naive    model.generate per prompt:     {naive_tokens} tok "
          f"in {naive_s:.2f} s = {n_rate:.1f} tok/s")  # fmt: skip
    print(f"ratio    batched / naive = {b_rate / n_rate:.2f}x")
    print(f"identical token ids: {same}/{len(prompts)} rows")


if __name__ == "__main__":
    main()
