"""Generation: run a causal LM over a prompt set into a reproducible Parquet store.

    generate(model, prompts, out, ...) -> GenerationStore     corpusmap generate --model M ...
    replay(generations, sample=20) -> dict                    corpusmap replay G.parquet --sample N
    load_model(model, device=None, dtype=None) -> LoadedModel

Files, in the order data flows: ``prompts_file`` (read prompts) -> ``model``
(find, hash and load the model) -> ``hf_backend``/``decode`` or
``vllm_backend`` (generate) -> ``schema`` (rows) -> ``store`` (Parquet parts +
manifest, resume) -> ``replay`` (check rows); ``api`` drives them, ``cli`` mirrors it.

Row schema (one row per prompt and sample; prompt columns follow, unchanged):

    gen_id            string     "{prompt_id}:{sample_index}", unique within a run
    prompt_id         string     the prompt's id field, else its 0-based line/row number
    sample_index      int32      0 .. num_samples-1
    prompt            string     the prompt text as given (before any chat template)
    output            string     decoded output, special tokens skipped, cut before a stop string
    prompt_token_ids  list<int32>  what the model saw (chat template applied, if asked)
    output_token_ids  list<int32>  generated ids, the eos id included when emitted
    token_logprobs    list<float32>  log P(token) under the raw model distribution
                                     (temperature 1, before top-k/top-p), one per output id
    n_tokens          int32      len(output_token_ids)
    finish_reason     string     "stop" (eos or stop string) or "length" (max_new_tokens)
    seed              int64      the row's seed (from the run seed, prompt_id, sample_index)
    temperature, top_p (float64), top_k, max_new_tokens (int32)   sampling parameters
    model             string     alias, hub name or absolute path of the model
    model_hash        string     sha256 of the weights (or hub:name@revision)
    engine            string     "hf" or "vllm"
    params_id         string     fingerprint of the run's parameters (tells runs apart)
    created_at        timestamp[ms, UTC]  when the row's part was assembled
    gen_seconds       float64    wall time of the row's batch / rows in the batch

Stop strings and the chat-template switch are recorded in the manifest only.
Read a store with DuckDB ``read_parquet('G.parquet/**/*.parquet')``, polars
``pl.scan_parquet('G.parquet/**/*.parquet')`` or ``GenerationStore(G).to_arrow()``
(layout and crash safety: ``store.py``).

Left out: beam search, speculative decoding, multi-GPU transformers inference
(use ``engine="vllm"``), prompt truncation to the model's context length.
"""

from __future__ import annotations

from corpusmap.generation.api import generate
from corpusmap.generation.model import LoadedModel, load_model
from corpusmap.generation.prompts_file import read_prompts
from corpusmap.generation.replay import replay
from corpusmap.generation.schema import ROW_SCHEMA
from corpusmap.generation.store import GenerationStore

__all__ = [
    "ROW_SCHEMA",
    "GenerationStore",
    "LoadedModel",
    "generate",
    "load_model",
    "read_prompts",
    "replay",
]
