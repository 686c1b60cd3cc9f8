"""The vLLM backend against a stand-in ``vllm`` module (vLLM itself needs a GPU).

The fake records what corpusmap asks for (engine options, one SamplingParams per
row) and answers like ``vllm.LLM.generate``: one RequestOutput per prompt, in
order, each with a CompletionOutput holding token ids, per-step logprob dicts,
text and finish reason. The test checks the translation both ways.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field

from corpusmap.generation import generate, replay, vllm_backend
from corpusmap.generation.params import row_seed
from tests.generation.tiny import PROMPTS


@dataclass
class Logprob:
    logprob: float


@dataclass
class SamplingParams:
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = -1
    max_tokens: int = 16
    seed: int | None = None
    logprobs: int | None = None
    stop: list[str] | None = None
    skip_special_tokens: bool = True


@dataclass
class FakeLLM:
    kwargs: dict
    calls: list = field(default_factory=list)

    def generate(self, prompts, params, use_tqdm=True):
        self.calls.append((prompts, params))
        outs = []
        for prompt, p in zip(prompts, params, strict=True):
            ids = [(p.seed + i) % 40 + 2 for i in range(min(3, p.max_tokens))]  # seed-determined
            step = [{t: Logprob(-0.25 * (i + 1))} for i, t in enumerate(ids)]
            done = types.SimpleNamespace(
                token_ids=ids, logprobs=step, text=" ".join(map(str, ids)), finish_reason="length"
            )
            outs.append(types.SimpleNamespace(prompt_token_ids=prompt, outputs=[done]))
        return outs


def fake_vllm(monkeypatch) -> list[FakeLLM]:
    engines: list[FakeLLM] = []

    def llm(**kwargs):
        engines.append(FakeLLM(kwargs))
        return engines[-1]

    module = types.ModuleType("vllm")
    module.LLM = llm
    module.SamplingParams = SamplingParams
    monkeypatch.setitem(sys.modules, "vllm", module)
    monkeypatch.setattr(vllm_backend, "_ENGINES", {})
    return engines


def test_vllm_engine_rows(tiny_model, tmp_path, monkeypatch):
    engines = fake_vllm(monkeypatch)
    out = tmp_path / "G.parquet"
    store = generate(tiny_model, PROMPTS, out, engine="vllm", temperature=0.7, top_k=0,
                     max_new_tokens=5, num_samples=2, stop=["!"])  # fmt: skip
    (engine,) = engines
    assert engine.kwargs["logprobs_mode"] == "raw_logprobs"
    assert engine.kwargs["dtype"] == "bfloat16" and engine.kwargs["model"].endswith("tiny-llama0")
    prompts, params = engine.calls[0]
    assert all(p.logprobs == 0 and p.top_k == -1 and p.stop == ["!"] for p in params)
    rows = store.to_arrow().to_pylist()
    assert len(rows) == len(PROMPTS) * 2 == len(params)
    for row, prompt, p in zip(rows, prompts, params, strict=True):
        assert p.seed == row["seed"] == row_seed(0, row["prompt_id"], row["sample_index"])
        assert prompt == {"prompt_token_ids": row["prompt_token_ids"]}
        assert row["engine"] == "vllm" and row["finish_reason"] == "length"
        assert row["token_logprobs"] == [-0.25, -0.5, -0.75]
        assert row["output"] == " ".join(map(str, row["output_token_ids"]))
    assert store.manifest["runs"][0]["params"]["engine"] == "vllm"
    assert replay(out, sample=0)["ok"]  # replay goes through the run's engine
