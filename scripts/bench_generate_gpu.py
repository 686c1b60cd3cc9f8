"""GPU benchmark: corpusmap's generation backends against raw vLLM on the same prompts.

Measured, each in its own subprocess (so one engine's GPU memory never holds up the
next), on the same prompt token ids, greedy, ``--max-new-tokens`` each:

* ``hf``: ``corpusmap.generate(engine="hf")`` at each ``--batch-sizes`` (bf16, SDPA);
* ``vllm-raw``: ``vllm.LLM(model).generate(token prompts, SamplingParams(temperature=0))``,
  the number to beat;
* ``vllm-ours``: ``corpusmap.generate(engine="vllm")`` (per-row seeds, log-probs, Parquet).

Tokens/s = generated tokens / wall seconds of the generate call (model load and
engine start-up excluded; one small warm-up call first). Printed: each rate and the
ratios hf/vllm-raw and vllm-ours/vllm-raw. The vLLM parts are skipped, with a
message, when vLLM is not installed.

The default model is the embedded SmolLM2-135M-Instruct GGUF. vLLM and transformers
should run the same weights, so a GGUF is first dequantized once into a safetensors
folder (``--work``/model) that both load.

Run (on a machine with a CUDA GPU; ``--allow-cpu`` runs the hf part on CPU for a
smoke test):

    .venv/bin/python scripts/bench_generate_gpu.py \
        [--model smollm2] [--prompts 1024] [--max-new-tokens 128] [--batch-sizes 64,256]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("CORPUSMAP_PROGRESS", "0")

TOPICS = ["the ocean", "a small town", "the history of Rome", "quantum physics", "bread"]
TOPICS += ["a lost key", "the moon landing", "jazz music", "mountain climbing", "a robot"]
FORMS = ["Write a short story about {}.", "Explain {} to a child.", "List facts about {}:"]
FORMS += ["The most surprising thing about {} is", "A poem about {}:\n"]


def make_prompts(n: int) -> list[str]:
    """``n`` varied prompts (lengths differ, so bucketing matters)."""
    return [
        FORMS[i % len(FORMS)].format(TOPICS[(i // len(FORMS)) % len(TOPICS)]) + " " * (i % 3)
        for i in range(n)
    ]


def prepare_model(model: str, work: Path) -> str:
    """A safetensors folder both engines load (a GGUF or alias is dequantized once)."""
    from corpusmap.generation.model import resolve_model

    source = resolve_model(model)
    if source.kind != "gguf":
        return source.path
    folder = work / "model"
    if not (folder / "config.json").is_file():
        import torch
        from transformers import AutoModelForCausalLM

        from corpusmap.generation.model import load_model

        loaded = load_model(model, device="cpu", dtype="bfloat16")
        config = loaded.model.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        # a GGUF-loaded model refuses save_pretrained: copy its dense weights into a plain one
        dense = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
        dense.load_state_dict(loaded.model.state_dict())
        dense.save_pretrained(folder)
        loaded.tokenizer.save_pretrained(folder)
    return str(folder)


def run_part(part: str, args: argparse.Namespace) -> dict:
    """One measurement, inside this (sub)process; returns tokens and seconds."""
    from corpusmap.generation import generate
    from corpusmap.generation.model import encode_prompts, load_tokenizer

    prompts = make_prompts(args.prompts)
    out = Path(tempfile.mkdtemp(prefix=f"bench-{part}-"))
    if part.startswith("hf:") or part == "vllm-ours":
        engine, batch = ("hf", int(part[3:])) if part.startswith("hf:") else ("vllm", 256)
        generate(args.model, prompts[:8], out / "warm", max_new_tokens=8, engine=engine,
                 batch_size=batch, device=args.device)  # fmt: skip
        t0 = time.perf_counter()
        store = generate(args.model, prompts, out / "G", max_new_tokens=args.max_new_tokens,
                         engine=engine, batch_size=batch, device=args.device)  # fmt: skip
        seconds = time.perf_counter() - t0
        return {"tokens": store.summary["tokens"], "seconds": seconds}
    import vllm

    ids = encode_prompts(load_tokenizer(args.model), prompts, False)
    llm = vllm.LLM(model=args.model, dtype="bfloat16", seed=0)
    greedy = vllm.SamplingParams(temperature=0.0, max_tokens=args.max_new_tokens)
    llm.generate([{"prompt_token_ids": x} for x in ids[:8]], greedy, use_tqdm=False)
    t0 = time.perf_counter()
    outs = llm.generate([{"prompt_token_ids": x} for x in ids], greedy, use_tqdm=False)
    seconds = time.perf_counter() - t0
    return {"tokens": sum(len(o.outputs[0].token_ids) for o in outs), "seconds": seconds}


def spawn(part: str, args: argparse.Namespace) -> dict | None:
    cmd = [sys.executable, __file__, "--part", part, "--model", args.model]
    cmd += ["--prompts", str(args.prompts), "--max-new-tokens", str(args.max_new_tokens)]
    if args.device:
        cmd += ["--device", args.device]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ})
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    print(f"  {part} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="smollm2", help="folder, .gguf, alias or hub name")
    parser.add_argument("--prompts", type=int, default=1024)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--batch-sizes", default="64,256", help="hf engine batch sizes")
    parser.add_argument("--device", default=None, help="torch device for the hf engine")
    parser.add_argument("--work", default=None, help="folder for the converted model")
    parser.add_argument("--allow-cpu", action="store_true", help="run the hf part without CUDA")
    parser.add_argument("--part", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        print("RESULT " + json.dumps(run_part(args.part, args)), flush=True)
        return

    import torch

    if not torch.cuda.is_available() and not args.allow_cpu:
        sys.exit("no CUDA device: this benchmark needs a GPU (--allow-cpu for a CPU smoke test)")
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-generate-gpu-"))
    args.model = prepare_model(args.model, work)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    print(f"{device}: {args.prompts} prompts x max {args.max_new_tokens} new tokens, greedy")
    has_vllm = importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()
    parts = [f"hf:{b}" for b in args.batch_sizes.split(",")]
    if has_vllm:
        parts += ["vllm-raw", "vllm-ours"]
    else:
        print("vLLM is not installed (or no GPU): skipping the vllm-raw and vllm-ours parts")
    rates = {}
    for part in parts:
        res = spawn(part, args)
        if res:
            rates[part] = res["tokens"] / res["seconds"]
            print(f"  {part:<10} {res['tokens']:>8} tok in {res['seconds']:8.2f} s "
                  f"= {rates[part]:10.1f} tok/s")  # fmt: skip
    raw = rates.get("vllm-raw")
    if raw:
        for part, rate in rates.items():
            if part != "vllm-raw":
                print(f"  ratio {part} / vllm-raw = {rate / raw:.3f}")


if __name__ == "__main__":
    main()
