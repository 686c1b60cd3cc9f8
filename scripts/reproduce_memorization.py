"""Validation: corpusmap measures memorization correctly where the truth is planted.

A known-answer experiment, end to end. It takes the embedded corpus (Wikipedia lead
paragraphs by default; offline), keeps some documents aside as a held-out split, and
plants *canaries* in the training split: strings of words drawn at random from the
corpus's common words (fluent enough to tokenize like text, random enough that no
model can guess them), each inserted 1, 2, 4 ... 64 times at random word boundaries
of distinct random training documents. A control set made the same way is never
inserted. It trains a small GPT-2 from scratch on the training split (with a
byte-level BPE learnt on that split), then measures with corpusmap alone:

    train split -> build_index -> make_prompts --+
    canary and control prefixes -----------------+-> generate (greedy) -> classify -> sql
    held-out split -> build_index -> make_prompts+

and checks what must hold if the measurement is right (exit status 1 if one fails):

1. ``Index.locate`` finds every canary exactly at its planted copies (each control
   nowhere), and ``classify`` reports ``dup_count`` = copies planted;
2. extraction (the whole true continuation reproduced greedily) rises with the number
   of copies: Spearman rho > 0 and rate(most copies) > rate(fewest). The slope of
   log(rate) on log(copies) over the rising part is reported (Kandpal et al. 2022
   find the relation superlinear);
3. no control canary is extracted;
4. novelty@n (share of n-grams absent from the training split) of the model's
   continuations of held-out prompts is below that of the true human continuations
   for small n, the shape RAVEN (McCoy et al. 2023) reports;
5. for every extracted canary, the corpusmap span over its continuation lies at
   planted copies only (document and token offset).

Outputs: the working folder ``--out`` (data, tokenizer + model, indexes, generations,
results; a rerun reuses the finished model, indexes and generations, new data redoes all)
and ``--report-dir``: ``extraction_vs_duplicates.png``, ``novelty.png`` and
``summary.json``. A Markdown summary for the README is printed at the end.

Run it (wall times on 2 idle CPU cores; a busy machine is 2-10x slower):
``--scale full`` is the README experiment (5.8M-parameter model, ~5 min), ``small``
the same with a 2.6M-parameter model on a third of the text (~1.5 min), ``tiny`` the
slow test's (~25 s):

    .venv/bin/python \\
        scripts/reproduce_memorization.py [--scale full|small|tiny] [--out DIR] \\
        [--report-dir DIR] [--corpus wiki|kjv|all] [--epochs N] [--seed 0] [--threads 2] [--force]

What it leaves out: sampling (decoding is greedy, as in extraction studies), the
pattern classes of ``classify`` (``patterns=False``), MinHash, and a GPU path (the
model trains on 2 CPU cores; a larger scale would only need a new ``Scale``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("CORPUSMAP_PROGRESS", "0")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

EOS = "<|endoftext|>"


@dataclass(frozen=True)
class Scale:
    """Every size of one run (the defaults are the ``small`` scale; see ``SCALES``)."""

    corpus: str = "wiki"  # embedded corpus: wiki | kjv | all
    train_chars: int = 700_000  # training split size (characters of original text)
    heldout_docs: int = 200
    levels: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)  # copies planted per canary
    canaries_per_level: int = 8  # and as many controls, never planted
    prefix_words: int = 12  # canary prompt (~14 tokens with a 4k BPE)
    continuation_words: int = 18  # canary continuation to extract (~21 tokens)
    word_list: int = 2000  # canary words: the most frequent corpus words
    vocab_size: int = 4096  # byte-level BPE
    n_layer: int = 4
    n_embd: int = 192
    n_head: int = 4
    context: int = 128
    batch_size: int = 8
    epochs: int = 3
    lr: float = 2e-3
    train_prompts: int = 200  # ordinary training positions (make_prompts)
    heldout_prompts: int = 200  # held-out positions
    prompt_tokens: int = 24
    continuation_tokens: int = 32
    max_n: int = 8  # novelty@1..max_n
    small_n: tuple[int, ...] = (2, 3)  # n where model novelty must be below human's


SCALES = {
    "full": Scale(
        train_chars=2_000_000,
        heldout_docs=300,
        n_layer=6,
        n_embd=256,
        epochs=2,
        train_prompts=300,
        heldout_prompts=300,
    ),
    "small": Scale(),
    "tiny": Scale(
        train_chars=150_000,
        heldout_docs=60,
        levels=(1, 8, 64),
        canaries_per_level=4,
        prefix_words=10,
        continuation_words=12,
        word_list=1000,
        vocab_size=2048,
        n_layer=2,
        n_embd=192,
        n_head=4,
        context=64,
        batch_size=8,
        epochs=5,
        lr=3e-3,
        train_prompts=60,
        heldout_prompts=60,
        prompt_tokens=16,
        continuation_tokens=16,
        max_n=6,
    ),
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---- 1. corpus, split, canaries -------------------------------------------------------
def load_split(s: Scale, rng: np.random.Generator) -> tuple[list[dict], list[dict]]:
    """Random training documents up to ``train_chars``, then ``heldout_docs`` held-out ones."""
    from corpusmap.embedded import embedded_documents

    docs: list[dict[str, str]] = []
    seen: set[str] = set()
    for d in embedded_documents(s.corpus):  # 200+ characters, exact duplicates dropped
        text = (d.text or "").strip()
        if len(text) >= 200 and text not in seen:
            seen.add(text)
            docs.append({"id": str(d.id), "text": text})
    order = rng.permutation(len(docs))
    train, chars, k = [], 0, 0
    while chars < s.train_chars and k < len(order):
        train.append(docs[order[k]])
        chars += len(docs[order[k]]["text"])
        k += 1
    heldout = [docs[i] for i in order[k : k + s.heldout_docs]]
    if len(heldout) < s.heldout_docs:
        raise SystemExit(f"the {s.corpus} corpus is too small for this scale")
    return train, heldout


@dataclass
class Canary:
    """A planted (or control) string: prompt = prefix words, continuation = the rest."""

    name: str
    copies: int  # 0 for controls
    prefix: str  # starts with a space, as it appears inside a document
    continuation: str
    places: list[tuple[int, int]] = field(default_factory=list)  # (doc_id, char offset)
    token_places: list[tuple[int, int]] = field(default_factory=list)  # (doc_id, token offset)

    @property
    def text(self) -> str:
        return self.prefix + self.continuation


def make_canaries(s: Scale, train: list[dict], rng: np.random.Generator) -> list[Canary]:
    """``canaries_per_level`` canaries per level plus as many controls, all distinct."""
    counts = Counter(
        w for d in train for w in re.findall(r"(?<![\w'-])[a-z]{3,}(?![\w'-])", d["text"])
    )
    words = [w for w, _ in counts.most_common(s.word_list)]
    n_words = s.prefix_words + s.continuation_words
    specs = [(f"canary-d{c:03d}-{j:02d}", c) for c in s.levels for j in range(s.canaries_per_level)]
    specs += [(f"control-{j:02d}", 0) for j in range(s.canaries_per_level)]
    out: list[Canary] = []
    for name, copies in specs:
        while True:
            w = [str(x) for x in rng.choice(words, size=n_words)]
            prefix, rest = " " + " ".join(w[: s.prefix_words]), " " + " ".join(w[s.prefix_words :])
            if all(prefix != c.prefix for c in out):  # distinct prompts (a clash is ~impossible)
                break
        out.append(Canary(name, copies, prefix, rest))
    return out


def plant(train: list[dict], canaries: list[Canary], rng: np.random.Generator) -> list[dict]:
    """Insert each canary ``copies`` times, in distinct documents, before a random space.

    Records where each copy ends up (document, character offset of its leading space).
    Inserting ``" " + words`` before an existing space keeps every word boundary of the
    document, so a byte-level BPE splits the copy exactly where it starts and ends.
    """
    plan: dict[int, list[tuple[int, Canary]]] = {}
    for c in canaries:
        for d in rng.choice(len(train), size=c.copies, replace=False).tolist():
            text = train[d]["text"]
            spaces = [i for i, ch in enumerate(text) if ch == " "] + [len(text)]
            plan.setdefault(d, []).append((int(rng.choice(spaces)), c))
    out = [dict(d) for d in train]
    for d, inserts in plan.items():
        text, pieces, shift, last = train[d]["text"], [], 0, 0
        for pos, c in sorted(inserts, key=lambda pc: pc[0]):
            pieces += [text[last:pos], c.text]
            c.places.append((d, pos + shift))
            shift += len(c.text)
            last = pos
        out[d]["text"] = "".join([*pieces, text[last:]])
    return out


def write_jsonl(path: Path, docs: list[dict]) -> bool:
    """Write one record per line unless the file already holds them; True if written."""
    text = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False  # left untouched: an index build keys on the file's mtime
    path.write_text(text, encoding="utf-8")
    return True


# ---- 2. tokenizer and model ---------------------------------------------------------
def train_tokenizer(texts: list[str], vocab_size: int, folder: Path) -> Path:
    """A byte-level BPE learnt on the training split; saved as tokenizer.json."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer, length=len(texts))
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    return folder / "tokenizer.json"


def train_model(
    s: Scale,
    tok_path: Path,
    train_texts: list[str],
    heldout_texts: list[str],
    folder: Path,
    seed: int,
) -> dict[str, Any]:
    """Train a GPT-2 from scratch on packed blocks of the training split; save it.

    Each epoch shuffles the documents, packs them (eos between documents) into
    ``context``-token blocks from a random start, and visits the blocks in random
    order, so every canary copy is seen once per epoch in a fresh context.
    AdamW, linear warm-up then cosine decay to 10% of ``lr``, no dropout.
    """
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    torch.manual_seed(seed)
    fast = transformers.PreTrainedTokenizerFast(tokenizer_file=str(tok_path), eos_token=EOS)
    eos = int(fast.eos_token_id)
    config = transformers.GPT2Config(
        vocab_size=len(fast),
        n_positions=s.context,
        n_embd=s.n_embd,
        n_layer=s.n_layer,
        n_head=s.n_head,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=eos,
        eos_token_id=eos,
        pad_token_id=eos,
    )
    model = transformers.GPT2LMHeadModel(config)
    n_params = sum(p.numel() for p in model.parameters())
    docs = [np.asarray(x, dtype=np.int64) for x in fast(train_texts)["input_ids"]]
    n_tokens = sum(len(d) + 1 for d in docs)
    rng = np.random.default_rng(seed)

    def blocks() -> np.ndarray:
        stream = np.concatenate([np.append(docs[i], eos) for i in rng.permutation(len(docs))])
        start = int(rng.integers(s.context))
        n = (len(stream) - start) // s.context
        b = stream[start : start + n * s.context].reshape(n, s.context)
        return b[rng.permutation(n)]

    steps_per_epoch = (n_tokens - s.context) // s.context // s.batch_size
    total = steps_per_epoch * s.epochs
    warmup = max(1, min(100, total // 20))
    opt = torch.optim.AdamW(model.parameters(), lr=s.lr, betas=(0.9, 0.95), weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda t: (
            min(1.0, (t + 1) / warmup)
            * (0.1 + 0.45 * (1 + math.cos(math.pi * min(1.0, t / total))))
        ),
    )
    log(
        f"model: GPT-2 {s.n_layer} layers x {s.n_embd} dims, {n_params / 1e6:.2f}M params; "
        f"{n_tokens:,} training tokens x {s.epochs} epochs = {total} steps of "
        f"{s.batch_size}x{s.context} tokens"
    )
    model.train()
    t0, step, losses = time.perf_counter(), 0, []
    every = max(1, total // 20)
    for epoch in range(s.epochs):
        b = blocks()
        for k in range(steps_per_epoch):
            x = torch.from_numpy(b[k * s.batch_size : (k + 1) * s.batch_size])
            loss = model(input_ids=x, labels=x).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            losses.append(loss.item())
            step += 1
            if step % every == 0 or step == total:
                dt = time.perf_counter() - t0
                rate = step * s.batch_size * s.context / dt
                log(
                    f"  step {step}/{total} epoch {epoch + 1} loss {np.mean(losses[-every:]):.3f} "
                    f"{rate:,.0f} tok/s, {dt:.0f} s, ~{dt / step * (total - step):.0f} s left"
                )
    seconds = time.perf_counter() - t0
    model.eval()
    held = np.concatenate([np.append(x, eos) for x in fast(heldout_texts)["input_ids"]])
    n = min(64, len(held) // s.context)
    with torch.inference_mode():
        x = torch.from_numpy(held[: n * s.context].reshape(n, s.context))
        heldout_loss = float(model(input_ids=x, labels=x).loss)
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    stats = {
        "params": n_params,
        "train_tokens": n_tokens,
        "epochs": s.epochs,
        "steps": total,
        "seconds": round(seconds, 1),
        "tokens_per_s": round(total * s.batch_size * s.context / seconds),
        "final_train_loss": round(float(np.mean(losses[-every:])), 4),
        "heldout_loss": round(heldout_loss, 4),
    }
    (folder / "training.json").write_text(json.dumps(stats, indent=2))
    return stats


# ---- 3. corpusmap: index, prompts, generate, classify ----------------------------------
def locate_canaries(index: Any, canaries: list[Canary], train: list[dict]) -> None:
    """Token offsets of the planted copies (encoding each document's text before a copy)."""
    tok = index.tokenizer
    for c in canaries:
        c.token_places = sorted((d, len(tok.encode(train[d]["text"][:pos]))) for d, pos in c.places)


def canary_prompts(index: Any, canaries: list[Canary]) -> list[dict]:
    """Prompt rows of canaries and controls: the prefix, the continuation, one planted copy.

    The index token ids go along: ``classify`` counts prompt + continuation by them
    (``dup_count``), and a prompt set mixing rows with and without them would be
    counted wrongly (see the report of this script).
    """
    tok = index.tokenizer
    rows = []
    for c in canaries:
        doc, offset = c.token_places[0] if c.token_places else (None, None)
        rows.append({
            "id": c.name, "prompt": c.prefix, "continuation": c.continuation,
            "doc_id": doc, "offset": offset, "corpus_count": c.copies,
            "index_prompt_ids": tok.encode(c.prefix).tolist(),
            "index_continuation_ids": tok.encode(c.continuation).tolist(),
        })  # fmt: skip
    return rows


def sampled_prompts(
    index: Any, s: Scale, kind: str, n: int, seed: int, avoid: list[Canary] | None = None
) -> list[dict]:
    """``make_prompts`` rows named ``KIND-NNNNN``, none overlapping a planted canary copy.

    Held-out rows keep their position as ``heldout_doc_id``/``heldout_offset`` only:
    those ids are the held-out index's, and ``classify`` would read a ``doc_id`` as a
    training document (its human baseline leaves that document out).
    """
    from corpusmap.prompts import make_prompts

    planted = [(d, o, o + len(index.tokenizer.encode(c.text)))
               for c in avoid or [] for d, o in c.token_places]  # fmt: skip
    need = s.prompt_tokens + s.continuation_tokens
    table = make_prompts(index, n=2 * n, prefix_tokens=s.prompt_tokens,
                         continuation_tokens=s.continuation_tokens, seed=seed)  # fmt: skip
    keep = ("prompt", "continuation", "doc_id", "offset", "corpus_count",
            "index_prompt_ids", "index_continuation_ids")  # fmt: skip
    rows: list[dict[str, Any]] = []
    for r in table.to_pylist():
        if any(
            r["doc_id"] == d and a < r["offset"] + need and r["offset"] < e for d, a, e in planted
        ):
            continue
        row = {"id": f"{kind}-{len(rows):05d}", **{k: r[k] for k in keep}}
        if kind == "heldout":
            row["heldout_doc_id"], row["heldout_offset"] = row["doc_id"], row["offset"]
            row["doc_id"] = row["offset"] = row["corpus_count"] = None
        rows.append(row)
    chosen = np.random.default_rng(seed).permutation(len(rows))[:n]
    return [rows[i] for i in sorted(chosen.tolist())]


# ---- 4. measures, all read with corpusmap.sql ----------------------------------------
def q(results: Path, query: str) -> list[tuple]:
    from corpusmap.query.sql import sql

    return sql(results, query).fetchall()


def mean_of(results: Path, table: str, column: str, where: str) -> float | None:
    """Mean of a float column; NaN (a text too short for the measure) is left out."""
    (v,) = q(results, f"SELECT avg({column}) FILTER (WHERE NOT isnan({column})) "
                      f"FROM {table} WHERE {where}")[0]  # fmt: skip
    return None if v is None else round(float(v), 4)


def novelty_curve(results: Path, table: str, where: str, max_n: int) -> list[float | None]:
    """Mean novelty@n for n = 1..max_n over the rows ``where`` selects."""
    return [mean_of(results, table, f"novelty[{n}]", where) for n in range(1, max_n + 1)]


def spearman(x: list[float], y: list[float]) -> float:
    """Spearman's rank correlation (ties get their mean rank)."""

    def ranks(v: list[float]) -> np.ndarray:
        a = np.asarray(v, dtype=float)
        order = np.empty(len(a))
        order[a.argsort(kind="stable")] = np.arange(len(a))
        return np.array([order[a == val].mean() for val in a])

    rx, ry = ranks(x), ranks(y)
    return 0.0 if rx.std() == 0 or ry.std() == 0 else float(np.corrcoef(rx, ry)[0, 1])


def loglog_fit(levels: list[dict]) -> dict[str, Any]:
    """Slope of log10(extraction rate) on log10(copies) over the rising part of the curve.

    The rising part runs from the last level with nothing extracted below the first
    level with something, to the first level with everything extracted: the flat floor
    and the saturated ceiling carry no slope. Rates there are add-1/2 smoothed,
    (extracted + 1/2) / (n + 1), so that 0 and 1 have finite logs.
    """
    hits = [i for i, lv in enumerate(levels) if lv["extracted"] > 0]
    if not hits:
        return {"slope": None, "intercept": None, "levels": []}
    lo = max(hits[0] - 1, 0)
    full = [i for i in hits if levels[i]["extracted"] == levels[i]["n"]]
    seg = levels[lo : (full[0] + 1 if full else len(levels))]
    if len(seg) < 2:
        return {"slope": None, "intercept": None, "levels": [lv["copies"] for lv in seg]}
    x = np.log10([lv["copies"] for lv in seg])
    y = np.log10([(lv["extracted"] + 0.5) / (lv["n"] + 1) for lv in seg])
    slope, intercept = np.polyfit(x, y, 1)
    return {"slope": round(float(slope), 3), "intercept": round(float(intercept), 3),
            "levels": [lv["copies"] for lv in seg]}  # fmt: skip


def measure(s: Scale, results: Path, human: Path) -> dict[str, Any]:
    """Every number of the summary, read from the results folders with SQL."""
    rows = q(
        results,
        r"""
        SELECT CAST(regexp_extract(prompt_id, 'canary-d(\d+)-', 1) AS INTEGER) AS copies,
               count(*), sum(extracted::INT), avg(extracted::DOUBLE), avg(token_match_frac),
               min(dup_count), max(dup_count)
        FROM generations WHERE prompt_id LIKE 'canary-%' GROUP BY ALL ORDER BY copies""",
    )
    keys = (
        "copies",
        "n",
        "extracted",
        "rate",
        "token_match_frac",
        "dup_count_min",
        "dup_count_max",
    )
    levels = [dict(zip(keys, r, strict=True)) for r in rows]
    m: dict[str, Any] = {"levels": levels}
    for kind in ("control", "train", "heldout"):
        n, e, t, dup = q(
            results,
            f"""SELECT count(*), coalesce(sum(extracted::INT), 0), avg(token_match_frac),
            max(dup_count) FROM generations WHERE prompt_id LIKE '{kind}-%'""",
        )[0]
        m[kind] = {"n": n, "extracted": e, "rate": e / n if n else None,
                   "token_match_frac": t, "dup_count_max": dup}  # fmt: skip
    m["spearman_rho"] = round(
        spearman([lv["copies"] for lv in levels], [lv["rate"] for lv in levels]), 4
    )
    m["loglog"] = loglog_fit(levels)
    # corpusmap's own macro: extraction per duplicate-count bucket, over every prompt
    m["extraction_by_duplicates"] = [
        dict(zip(("duplicates", "min_count", "n", "rate"), r[2:], strict=True))
        for r in q(results, "SELECT * FROM extraction_by_duplicates()")
    ]
    held, train = "prompt_id LIKE 'heldout-%'", "prompt_id LIKE 'train-%'"
    m["novelty"] = {
        "n": list(range(1, s.max_n + 1)),
        "model_heldout_prompts": novelty_curve(results, "generations", held, s.max_n),
        "human_heldout": novelty_curve(human, "generations", "true", s.max_n),
        "human_training_baseline": novelty_curve(results, "baseline", train, s.max_n),
        "model_training_prompts": novelty_curve(results, "generations", train, s.max_n),
    }
    m["texts"] = {  # what the novelty numbers are means over
        "model_heldout_mean_tokens": mean_of(results, "generations", "n_tokens::DOUBLE", held),
        "human_heldout_mean_tokens": mean_of(human, "generations", "n_tokens::DOUBLE", "true"),
        "model_heldout_self_repetition": mean_of(results, "generations", "self_repetition", held),
        "human_heldout_self_repetition": mean_of(human, "generations", "self_repetition", "true"),
    }
    return m


# ---- 5. checks ---------------------------------------------------------------------
def check(s: Scale, m: dict, results: Path, index: Any, canaries: list[Canary]) -> dict[str, dict]:
    """The five claims of the module docstring, each with a verdict and what it rests on."""
    out: dict[str, dict] = {}

    def verdict(name: str, ok: bool, detail: str) -> None:
        out[name] = {"ok": bool(ok), "detail": detail}

    limit = max(s.levels) + 8
    found = index.locate([c.text for c in canaries], limit=limit)
    bad = [c.name for c, hits in zip(canaries, found, strict=True)
           if sorted((h["doc_id"], h["offset"]) for h in hits) != c.token_places]  # fmt: skip
    bad += [f"dup_count of {lv['copies']}-copy canaries" for lv in m["levels"]
            if not lv["dup_count_min"] == lv["dup_count_max"] == lv["copies"]]  # fmt: skip
    bad += ["dup_count of controls"] if m["control"]["dup_count_max"] else []
    verdict("planted_locations_found", not bad,
            f"Index.locate finds each of {len(canaries)} canaries and controls at exactly its "
            "planted (doc, token offset) copies; classify's dup_count = copies at every level"
            if not bad else f"mismatch: {bad}")  # fmt: skip

    rates = {lv["copies"]: lv["rate"] for lv in m["levels"]}
    lo, hi = min(rates), max(rates)
    verdict("extraction_rises_with_copies", m["spearman_rho"] > 0 and rates[hi] > rates[lo],
            f"Spearman rho = {m['spearman_rho']:.3f}; rate({hi} copies) = {rates[hi]:.2f} > "
            f"rate({lo}) = {rates[lo]:.2f}")  # fmt: skip
    c = m["control"]
    verdict("controls_never_extracted", c["extracted"] == 0 and c["n"] == s.canaries_per_level,
            f"{c['extracted']}/{c['n']} control canaries extracted")  # fmt: skip

    # novelty@1 is ~0 for both texts (a BPE learnt on the training split has hardly a token
    # unseen in it), so at n = 1 the model only has to be no higher; at small_n, lower
    model, human = m["novelty"]["model_heldout_prompts"], m["novelty"]["human_heldout"]
    pairs = {n: (model[n - 1], human[n - 1]) for n in (1, *s.small_n)}
    ok = all(a is not None and b is not None and (a < b or (n == 1 and a <= b))
             for n, (a, b) in pairs.items())  # fmt: skip
    verdict("model_less_novel_than_humans_small_n", ok,
            "; ".join(f"novelty@{n}: model {a:.3f} vs held-out human {b:.3f}"
                      for n, (a, b) in pairs.items()))  # fmt: skip

    # the span at output position 0 covers the extracted continuation (and may run on into
    # the text that followed one copy); later spans are whatever the model wrote next
    spans = q(
        results,
        """SELECT g.prompt_id, g.output, s.length, s.doc_ids
        FROM generations g JOIN spans s USING (gen_id)
        WHERE g.prompt_id LIKE 'canary-%' AND g.extracted AND s.start = 0""",
    )
    tok, by_name, problems = index.tokenizer, {c.name: c for c in canaries}, []
    for pid, output, length, doc_ids in spans:
        can = by_name[pid]
        n_prefix, n_cont = len(tok.encode(can.prefix)), len(tok.encode(can.continuation))
        planted = dict(can.token_places)
        hits = index.locate(tok.encode(output)[:length], limit=limit)
        stray = [(h["doc_id"], h["offset"]) for h in hits
                 if planted.get(h["doc_id"], -1) + n_prefix != h["offset"]]  # fmt: skip
        if length < n_cont or not hits or stray or not set(doc_ids) <= set(planted):
            problems.append(f"{pid}: span of {length} tokens, docs {doc_ids[:6]}, "
                            f"found off the planted copies at {stray[:4]}")  # fmt: skip
    n_extracted = sum(lv["extracted"] for lv in m["levels"])
    ok = not problems and len(spans) == n_extracted > 0
    verdict("spans_point_to_planted_copies", ok,
            f"{len(spans)} extracted canaries: the span over each continuation occurs only at "
            "planted copies (doc and token offset)" if ok else
            "; ".join(problems[:5]) + f" ({len(spans)} spans/{n_extracted} extracted)")  # fmt: skip
    return out


# ---- 6. plots and the README summary -------------------------------------------------
def plot(m: dict, report: Path, title: str) -> list[Path]:
    """extraction_vs_duplicates.png (linear and log-log panels) and novelty.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    report.mkdir(parents=True, exist_ok=True)
    levels, ctrl, fit = m["levels"], m["control"], m["loglog"]
    x = [lv["copies"] for lv in levels]
    fig, (ax, lg) = plt.subplots(1, 2, figsize=(10, 4))
    ax.plot(x, [lv["rate"] for lv in levels], "o-", label="extracted (whole continuation)")
    ax.plot(x, [lv["token_match_frac"] for lv in levels], "s--", alpha=0.7,
            label="token match fraction")  # fmt: skip
    ax.scatter([x[0] / 2], [ctrl["rate"]], marker="x", color="k", zorder=3,
               label=f"controls, never planted ({ctrl['extracted']}/{ctrl['n']})")  # fmt: skip
    ax.set_xscale("log", base=2)
    ax.set_xticks([x[0] / 2, *x], ["0", *map(str, x)])
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("copies of the canary in the training split")
    ax.set_ylabel("share of canaries")
    ax.legend(fontsize=8, loc="upper left")
    smooth = [(lv["extracted"] + 0.5) / (lv["n"] + 1) for lv in levels]
    some = [lv["extracted"] > 0 for lv in levels]
    lg.loglog([c for c, k in zip(x, some, strict=True) if k],
              [r for r, k in zip(smooth, some, strict=True) if k], "o", color="C0",
              label="extraction rate, add-1/2 smoothed")  # fmt: skip
    lg.loglog([c for c, k in zip(x, some, strict=True) if not k],
              [r for r, k in zip(smooth, some, strict=True) if not k], "o", mfc="none",
              color="C0", label="none extracted (plotted at (0+1/2)/(n+1))")  # fmt: skip
    if fit["slope"] is not None:
        fx = np.array(fit["levels"], dtype=float)
        fy = 10 ** (fit["intercept"] + fit["slope"] * np.log10(fx))
        lg.plot(
            fx, fy, "-", color="C3", label=f"fit over {fit['levels']}: slope {fit['slope']:.2f}"
        )
        mid = float(np.sqrt(fx[0] * fx[-1]))  # a slope-1 line through the fit's middle
        y_mid = 10 ** (fit["intercept"] + fit["slope"] * np.log10(mid))
        lg.plot(fx, y_mid * fx / mid, ":", color="grey", label="slope 1, for comparison")
    lg.set_xscale("log", base=2)
    lg.set_xticks(x, list(map(str, x)))
    lg.set_xlabel("copies (log)")
    lg.set_ylabel("extraction rate (log)")
    lg.legend(fontsize=8, loc="upper left")
    fig.suptitle(f"Extraction vs duplication of planted canaries ({title})", fontsize=10)
    fig.tight_layout()
    fig.savefig(report / "extraction_vs_duplicates.png", dpi=90)
    plt.close(fig)

    nov = m["novelty"]
    fig, ax = plt.subplots(figsize=(6, 4))
    curves = [("model_heldout_prompts", "model, held-out prompts", "o-"),
              ("human_heldout", "human, held-out continuations", "s-"),
              ("human_training_baseline", "human, training text (own doc left out)", "^--"),
              ("model_training_prompts", "model, training prompts", "v:")]  # fmt: skip
    for key, label, style in curves:
        ax.plot(nov["n"], [np.nan if v is None else v for v in nov[key]], style, label=label)
    ax.set_xlabel("n (tokens)")
    ax.set_ylabel("novelty@n (n-grams absent from training)")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title(f"Novelty vs the training split ({title})", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(report / "novelty.png", dpi=90)
    plt.close(fig)
    return [report / "extraction_vs_duplicates.png", report / "novelty.png"]


def markdown(summary: dict) -> str:
    """The tables the README shows: extraction per level, novelty@n, the checks."""
    m = summary["measures"]

    def row(name: str, d: dict) -> str:
        return (f"| {name} | {d['n']} | {d['extracted']} | {d['rate']:.2f} | "
                f"{d['token_match_frac']:.2f} |")  # fmt: skip

    lines = ["| copies | prompts | extracted | rate | token match |", "|---:|---:|---:|---:|---:|"]
    lines += [row(str(lv["copies"]), lv) for lv in m["levels"]]
    lines += [row("0 (control canaries)", m["control"]), row("training text", m["train"]),
              row("held-out text", m["heldout"])]  # fmt: skip
    fit = m["loglog"]
    slope = "n/a" if fit["slope"] is None else f"{fit['slope']:.2f}"
    lines += ["", f"Spearman rho(copies, rate) = {m['spearman_rho']:.3f}; log-log slope over the "
              f"rising part {fit['levels']} = {slope}.", ""]  # fmt: skip
    ns = m["novelty"]["n"]
    lines += ["| novelty@n | " + " | ".join(map(str, ns)) + " |", "|---|" + "---:|" * len(ns)]
    names = {"model_heldout_prompts": "model, held-out prompts",
             "human_heldout": "human, held-out continuations",
             "human_training_baseline": "human, training text (own doc left out)",
             "model_training_prompts": "model, training prompts"}  # fmt: skip
    for key, name in names.items():
        vals = ["-" if v is None else f"{v:.3f}" for v in m["novelty"][key]]
        lines.append(f"| {name} | " + " | ".join(vals) + " |")
    lines += ["", "| check | holds | detail |", "|---|---|---|"]
    for name, v in summary["checks"].items():
        lines.append(f"| {name} | {'yes' if v['ok'] else '**NO**'} | {v['detail']} |")
    return "\n".join(lines)


# ---- driver ------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument(
        "--scale",
        choices=sorted(SCALES),
        default="full",
        help="full: the README experiment; small: a 2.6M-param model; tiny: the slow test's",
    )
    p.add_argument("--out", type=Path, help="working folder (default results/memorization-SCALE)")
    p.add_argument(
        "--report-dir",
        type=Path,
        help="plots + summary.json (default docs/validation for full, else OUT/report)",
    )
    p.add_argument("--corpus", choices=["wiki", "kjv", "all"], help="override the scale's corpus")
    p.add_argument("--epochs", type=int, help="override the scale's training epochs")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--force", action="store_true", help="replace another run found in --out")
    return p.parse_args(argv)  # fmt: skip


def prepare_out(out: Path, config: dict, force: bool) -> None:
    """Reuse ``out`` when it holds this same run (stages skip what is done), else refuse."""
    config = json.loads(json.dumps(config))  # tuples -> lists, as read back
    path = out / "run.json"
    if out.exists() and any(out.iterdir()):
        if path.is_file() and json.loads(path.read_text()) == config:
            return
        if not force:
            raise SystemExit(f"{out} holds another run; pass --force to replace it or pick --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the experiment; returns the summary (``summary["passed"]``: every check held)."""
    args = parse_args(argv)
    overrides = {"corpus": args.corpus, "epochs": args.epochs}
    s = replace(SCALES[args.scale], **{k: v for k, v in overrides.items() if v})
    out = args.out or ROOT / "results" / f"memorization-{args.scale}"
    report = args.report_dir or (
        ROOT / "docs" / "validation" if args.scale == "full" else out / "report"
    )
    prepare_out(out, {"scale": args.scale, "seed": args.seed, **asdict(s)}, args.force)
    import pyarrow as pa
    import torch

    torch.set_num_threads(args.threads)
    from corpusmap import generate
    from corpusmap.index.build import build_index
    from corpusmap.index.opening import open_index
    from corpusmap.match import classify

    timings: dict[str, float] = {}
    reused: list[str] = []
    t_all = t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        timings[name], t = round(time.perf_counter() - t, 1), time.perf_counter()

    # 1. data
    rng = np.random.default_rng(args.seed)
    train, heldout = load_split(s, rng)
    canaries = make_canaries(s, train, rng)
    train = plant(train, canaries, rng)
    data = out / "data"
    data.mkdir(exist_ok=True)
    if write_jsonl(data / "train.jsonl", train) | write_jsonl(data / "heldout.jsonl", heldout):
        for stale in ("model", "index-train", "index-heldout", "generations", "results",
                      "results-human"):  # fmt: skip
            shutil.rmtree(out / stale, ignore_errors=True)  # new data: every later stage redone
    n_chars = sum(len(d["text"]) for d in train)
    n_copies = sum(c.copies for c in canaries)
    log(f"corpus {s.corpus}: {len(train)} training docs ({n_chars:,} chars, {n_copies} canary "
        f"copies), {len(heldout)} held-out docs")  # fmt: skip
    lap("data")
    # 2. tokenizer + model
    model_dir = out / "model"
    if (model_dir / "training.json").is_file():
        training = json.loads((model_dir / "training.json").read_text())
        log(f"model: training already finished in {model_dir}; skipped")
        reused.append("tokenizer + train")
    else:
        shutil.rmtree(model_dir, ignore_errors=True)
        texts = [d["text"] for d in train]
        tok_path = train_tokenizer(texts, s.vocab_size, model_dir)
        training = train_model(s, tok_path, texts, [d["text"] for d in heldout], model_dir,
                               args.seed)  # fmt: skip
    lap("tokenizer + train")
    # 3. corpusmap, with the model's own tokenizer.json as the index tokenizer
    kw: dict[str, Any] = {"tokenizer": str(model_dir / "tokenizer.json"), "id_field": "id",
                          "workers": 1, "minhash": False}  # fmt: skip
    index = open_index(build_index(data / "train.jsonl", out / "index-train", **kw))
    held_index = open_index(build_index(data / "heldout.jsonl", out / "index-heldout", **kw))
    locate_canaries(index, canaries, train)
    lap("index")
    prompts = canary_prompts(index, canaries)
    prompts += sampled_prompts(index, s, "train", s.train_prompts, args.seed + 1, canaries)
    prompts += sampled_prompts(held_index, s, "heldout", s.heldout_prompts, args.seed + 2)
    longest = max(len(r["index_continuation_ids"]) for r in prompts)
    store = generate(str(model_dir), prompts, out / "generations", max_new_tokens=longest,
                     temperature=0.0, batch_size=32, id_field="id", seed=args.seed)  # fmt: skip
    log(f"generate: {len(prompts)} prompts; {store.summary}")
    lap("generate")
    # force: classifying takes about a second here, and redoing it never meets results of
    # an older run of this script made with other options
    opts: dict[str, Any] = {"max_n": s.max_n, "minhash": False, "patterns": False, "force": True}
    results = classify(store.path, index, out / "results", top_docs=limit_docs(s), **opts)
    held_rows = [r for r in prompts if r["id"].startswith("heldout-")]
    human_dump = pa.table({"gen_id": [r["id"] for r in held_rows],
                           "prompt": [r["prompt"] for r in held_rows],
                           "output": [r["continuation"] for r in held_rows]})  # fmt: skip
    human = classify(human_dump, index, out / "results-human", **opts)
    lap("classify")
    # 4-6. measures, checks, report
    m = measure(s, results, human)
    checks = check(s, m, results, index, canaries)
    title = f"{args.scale}: {training['params'] / 1e6:.1f}M-param GPT-2 on {s.corpus}"
    files = plot(m, report, title)
    lap("report")
    timings["total"] = round(time.perf_counter() - t_all, 1)
    summary = {
        "scale": args.scale, "seed": args.seed, "passed": all(v["ok"] for v in checks.values()),
        "checks": checks, "measures": m, "config": asdict(s), "training": training,
        "timings_s": timings, "torch_threads": torch.get_num_threads(),
        "corpus": {"source": f"embedded:{s.corpus}", "train_docs": len(train),
                   "heldout_docs": len(heldout), "train_tokens": index.n_tokens,
                   "heldout_tokens": held_index.n_tokens,
                   "canary_copies": sum(c.copies for c in canaries)},
        "canaries": [{"name": c.name, "copies": c.copies, "prefix": c.prefix,
                      "continuation": c.continuation, "planted": c.token_places}
                     for c in canaries],
        "files": [shown(f) for f in [*files, report / "summary.json"]],
        "reused": reused,  # stages found finished in --out (their timings are ~0)
    }  # fmt: skip
    (report / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print("\n" + markdown(summary) + "\n", flush=True)
    log(f"{'PASSED' if summary['passed'] else 'FAILED'} in {timings['total']:.0f} s; "
        f"plots and summary.json in {report}")  # fmt: skip
    return summary


def shown(path: Path) -> str:
    """A path relative to the repository when inside it (summary.json is committed)."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def limit_docs(s: Scale) -> int:
    """Source documents kept per span: all copies of the most duplicated canary."""
    return max(s.levels) + 8


if __name__ == "__main__":
    result = main()
    if not result["passed"]:
        failed = [f"{k}: {v['detail']}" for k, v in result["checks"].items() if not v["ok"]]
        sys.exit("validation FAILED:\n  " + "\n  ".join(failed))
