"""Kill -9 at random moments, resume, and check that nothing is lost, duplicated or half-opened.

For each stage (index build, generate with the tiny test model, classify's shards,
classify's pattern stage, report) the script first makes an uninterrupted
reference output, then runs N trials. A trial starts the real command
(``python -m corpusmap ...``) in its own process group, sends SIGKILL to the
group after a random delay (uniform from half the command's import time to the
reference run's wall time, so most kills land in the work), and then:

1. *peeks*: opens what the killed run left as a reader would (``open_index``, the
   store, the results' manifest parts, the report page). It must either refuse,
   or show a complete earlier state: only finished parts, each equal to the
   reference's rows with the same keys. Anything else is counted ``corrupt``;
2. reruns the same command to completion (resume) and compares the final output
   with the reference: ``identical``, or ``lost`` (keys missing), ``duplicated``
   (keys twice or extra), ``corrupt`` (same keys, other content).

Usage::

    python scripts/chaos.py                      # 20 trials per stage (~15 min, 2 cores)
    python scripts/chaos.py --trials 3 --stages build,classify

Exit status 1 if any trial was not identical or any peek found a half-written
output. What it leaves out: power cuts (fsync order is tested in
``tests/test_atomic.py``), kills inside worker pools (one worker here), and
GPU generation.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STAGES = ("build", "generate", "classify", "patterns", "report")


class Refused(Exception):
    """A reader refused the output (the right answer for a half-made one)."""


@dataclass
class Stage:
    """A command, how to reset its output before a trial, and how to read what it left.

    ``read`` returns {key: content} (rows by id, files by name) and a flag saying
    whether the output claims to be complete; it raises :class:`Refused` when a
    reader refuses the output.
    """

    name: str
    argv: list[str]
    out: Path
    reset: Callable[[], None]
    read: Callable[[Path], tuple[dict[str, Any], bool]]
    keys_repeat: Callable[[Path], int] = lambda _: 0  # rows whose key occurs twice
    start: Path | None = None  # the complete earlier state a trial starts from, if any
    imports: str = "corpusmap"  # what the command imports before it works (timed once)
    tally: Counter = field(default_factory=Counter)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT), CORPUSMAP_PROGRESS="0", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1"
    )
    return env


def _run(argv: list[str]) -> float:
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "corpusmap", *argv], env=_env(), capture_output=True, text=True
    )
    if res.returncode != 0:
        raise SystemExit(f"`corpusmap {' '.join(argv)}` failed:\n{res.stderr[-3000:]}")
    return time.perf_counter() - t0


def _killed_run(argv: list[str], delay: float) -> float | None:
    """Start the command, SIGKILL its process group after ``delay`` s.

    Returns None when it was killed, else the seconds it took to finish.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "corpusmap", *argv],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    t0 = time.perf_counter()
    try:
        proc.wait(timeout=delay)
        return time.perf_counter() - t0  # finished before the kill
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


# ---- readers: what a user would open, as {key: content} ----------------------------


def _read_index(out: Path) -> tuple[dict[str, Any], bool]:
    from corpusmap.errors import CorpusmapError
    from corpusmap.index.index import open_index

    try:
        ix = open_index(out)
    except CorpusmapError as exc:
        raise Refused(str(exc)) from exc
    m = ix.manifest
    rows = {s["name"]: json.dumps(s["files"], sort_keys=True) for s in m["shards"]}
    rows["corpus"] = (m["n_docs"], m["n_tokens"], m["corpus_fingerprint"])
    for name in ("tokens.bin", "sa.bin"):  # the bytes, not only what the manifest claims
        for s in m["shards"]:
            rows[f"{s['name']}/{name}"] = _sha(out / s["name"] / name)
    return rows, True


def _read_store(out: Path) -> tuple[dict[str, Any], bool]:
    from corpusmap.errors import CorpusmapError
    from corpusmap.generation.store import GenerationStore

    try:
        table = GenerationStore(out).to_arrow()
    except CorpusmapError as exc:
        raise Refused(str(exc)) from exc
    cols = ["gen_id", "output", "output_token_ids", "seed"]
    return {r["gen_id"]: json.dumps(r) for r in table.select(cols).to_pylist()}, False


def _store_repeats(out: Path) -> int:
    from corpusmap.generation.store import GenerationStore

    ids = GenerationStore(out).to_arrow().column("gen_id").to_pylist()
    return len(ids) - len(set(ids))


def _read_results(out: Path) -> tuple[dict[str, Any], bool]:
    import pyarrow.parquet as pq

    from corpusmap.errors import CorpusmapError
    from corpusmap.query.status import read_manifest, result_parts

    try:
        manifest = read_manifest(out)
    except CorpusmapError as exc:
        raise Refused(str(exc)) from exc
    rows: dict[str, Any] = {}
    for table, parts in result_parts(out, manifest).items():
        for part in parts:
            t = pq.read_table(part)  # a listed part that does not read is corrupt
            for i, r in enumerate(t.to_pylist()):
                key = r.get("gen_id") if table == "generations" else f"{part.name}:{i}"
                rows[f"{table}/{key}"] = json.dumps(r, sort_keys=True, default=str)
    return rows, "completed_at" in manifest


def _read_report(out: Path) -> tuple[dict[str, Any], bool]:
    page = out / "index.html"
    if not out.is_dir():
        raise Refused("no report folder")
    rows: dict[str, Any] = {}
    for f in sorted(out.iterdir()):
        if f.name.startswith("."):
            continue  # a temp file: never opened by name
        data = f.read_bytes()
        if f.suffix == ".png" and not data.endswith(b"IEND\xaeB`\x82"):
            rows[f.name] = "TRUNCATED PNG"
        elif f.suffix == ".html":
            text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "TIME", data.decode("utf-8"))
            rows[f.name] = _sha_bytes(text.encode()) if text.rstrip().endswith("</html>") else "CUT"
        else:
            rows[f.name] = _sha_bytes(data)
    return rows, page.is_file()


def _sha(path: Path) -> str:
    return _sha_bytes(path.read_bytes())


def _sha_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


# ---- the data and the stages --------------------------------------------------------


def make_inputs(work: Path, docs: int, prompts: int, with_model: bool) -> dict[str, Path]:
    """A corpus, a prompts file and (if needed) the tiny model, all made here, offline."""
    from tests.generation.tiny import SENTENCES, build_tiny_model

    rng = random.Random(0)
    words = " ".join(SENTENCES).split()
    corpus = work / "corpus.jsonl"
    with open(corpus, "w", encoding="utf-8") as f:
        for _ in range(docs):
            f.write(
                json.dumps({"text": " ".join(rng.choices(words, k=rng.randint(20, 80)))}) + "\n"
            )
    pfile = work / "prompts.jsonl"
    with open(pfile, "w", encoding="utf-8") as f:
        for i in range(prompts):
            f.write(json.dumps({"id": f"q{i}", "prompt": " ".join(rng.choices(words, k=4))}) + "\n")
    model = work / "tiny"
    if with_model and not model.is_dir():
        build_tiny_model(model)
    return {"corpus": corpus, "prompts": pfile, "model": model}


def make_stages(work: Path, inputs: dict[str, Path], names: list[str]) -> list[Stage]:
    """Reference outputs (uninterrupted) and the stages to torture."""
    ref = work / "ref"
    ref.mkdir(exist_ok=True)
    ix, g, r_shards, r_full = ref / "ix", ref / "G", ref / "R-shards", ref / "R"
    build = ["index", "build", str(inputs["corpus"]), "--shard-tokens", "20000", "--workers", "1"]
    gen = ["generate", "--model", str(inputs["model"]), "--prompts", str(inputs["prompts"])]
    gen += ["--max-new-tokens", "12", "--num-samples", "2", "--part-rows", "8", "--batch-size", "4"]
    cls = ["classify", str(g), "--index", str(ix), "--shard-rows", "16", "--no-minhash"]
    behaviors = work / "behaviors.toml"
    behaviors.write_text('[[behaviors]]\nname = "the"\nliteral = "the"\n\n'
                         '[[behaviors]]\nname = "comma"\nregex = ","\n')  # fmt: skip
    # thresholds low enough that the tiny model's outputs give pattern rows to lose
    pat = ["--min-generations", "2", "--e-min", "1", "--top-k", "0", "--behaviors", str(behaviors)]
    need = set(names)  # each stage needs the references of the stages before it
    if need & {"classify", "patterns", "report"}:
        need |= {"build", "generate", "classify"}
    if "report" in need:
        need.add("patterns")
    if "build" in need and not (ix / "manifest.json").is_file():
        _run([*build, "--out", str(ix)])
    if "generate" in need and not any(
        (g / m).is_file() for m in ("manifest.json", "_manifest.json")
    ):
        _run([*gen, "--out", str(g)])
    if "classify" in need and not (r_shards / "manifest.json").is_file():
        _run([*cls, "--out", str(r_shards), "--no-patterns"])
    if "patterns" in need and not (r_full / "manifest.json").is_file():
        _run([*cls, *pat, "--out", str(r_full)])
    if "report" in need and not (ref / "rep" / "index.html").is_file():
        _run(["report", str(r_full), "--out", str(ref / "rep")])
    t = work / "trial"

    def fresh(path: Path, start: Path | None = None) -> Callable[[], None]:
        def reset() -> None:
            for p in (path, path.parent / f".{path.name}.building"):
                shutil.rmtree(p, ignore_errors=True)
            if start is not None:
                shutil.copytree(start, path)

        return reset

    stages = {
        "build": Stage("build", [*build, "--out", str(t / "ix")], t / "ix", fresh(t / "ix"),
                       _read_index, imports="corpusmap.index.build"),
        "generate": Stage("generate", [*gen, "--out", str(t / "G")], t / "G", fresh(t / "G"),
                          _read_store, _store_repeats,
                          imports="torch, transformers, corpusmap.generation.api"),
        "classify": Stage("classify", [*cls, "--out", str(t / "R"), "--no-patterns"], t / "R",
                          fresh(t / "R"), _read_results, imports="corpusmap.match"),
        # the pattern stage: resume from finished shards, so kills land in the patterns
        "patterns": Stage("patterns", [*cls, *pat, "--out", str(t / "RP")], t / "RP",
                          fresh(t / "RP", r_shards), _read_results, start=r_shards,
                          imports="corpusmap.match"),
        "report": Stage("report", ["report", str(r_full), "--out", str(t / "rep")], t / "rep",
                        fresh(t / "rep"), _read_report,
                        imports="corpusmap.query.report, matplotlib.figure"),
    }  # fmt: skip
    refs = {"build": ix, "generate": g, "classify": r_shards, "patterns": r_full}
    out = []
    for name in names:
        stage = stages[name]
        stage.ref = refs.get(name, ref / "rep")  # type: ignore[attr-defined]
        out.append(stage)
    return out


def _judge(
    seen: dict[str, Any], complete: bool, reference: dict[str, Any], start: dict[str, Any] | None
) -> str:
    """What a reader saw after a kill: ``complete``, ``earlier state`` or ``corrupt``.

    An earlier state is the starting state, or a subset of the reference's keys
    with the reference's content that does not claim to be complete.
    """
    if seen == reference:
        return "complete"
    if seen == start:
        return "earlier state"
    if complete or any(k not in reference or reference[k] != v for k, v in seen.items()):
        return "corrupt"
    return "earlier state"


def _import_seconds(modules: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {modules}"], env=_env(), check=True)
    return time.perf_counter() - t0


def trial(
    stage: Stage,
    reference: dict[str, Any],
    window: list[float],
    rng: random.Random,
    start: dict[str, Any] | None = None,
) -> None:
    """One kill at a moment drawn from ``window`` (s), a peek, a resume; counts into ``tally``.

    ``start``: what the stage's starting state reads as (a complete earlier state).
    A run that finishes before its kill shortens the window to its own duration,
    so a reference timed on a busy machine does not leave most runs unkilled.
    """
    stage.reset()
    stage.tally["trials"] += 1
    took = _killed_run(stage.argv, rng.uniform(*window))
    if took is not None:
        stage.tally["finished before the kill"] += 1
        window[1] = max(window[0], min(window[1], took))
    try:
        seen, complete = stage.read(stage.out)
    except Refused:
        stage.tally["peek refused"] += 1
    else:
        verdict = _judge(seen, complete, reference, start)
        stage.tally[f"peek {verdict}"] += 1
        if verdict == "corrupt":
            odd = [k for k in set(seen) | set(reference) if seen.get(k) != reference.get(k)]
            print(f"  {stage.name}: half-written output opened ({len(odd)} keys differ, "
                  f"e.g. {sorted(odd)[:3]}; complete={complete})", flush=True)  # fmt: skip
    _run(stage.argv)  # resume
    final, _ = stage.read(stage.out)
    if stage.keys_repeat(stage.out):
        stage.tally["duplicated"] += 1
    elif final == reference:
        stage.tally["identical"] += 1
    elif set(reference) - set(final):
        stage.tally["lost"] += 1
    elif set(final) - set(reference):
        stage.tally["duplicated"] += 1
    else:
        stage.tally["corrupt"] += 1
    if final != reference:
        odd = [k for k in set(final) | set(reference) if final.get(k) != reference.get(k)]
        print(f"  {stage.name}: resumed output differs at {sorted(odd)[:3]}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=20, help="Kill trials per stage.")
    ap.add_argument("--stages", default=",".join(STAGES), help="Comma-separated stages.")
    ap.add_argument("--docs", type=int, default=3000, help="Corpus documents.")
    ap.add_argument("--prompts", type=int, default=20, help="Prompts (x2 samples).")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", default=None, help="Work folder (default: a temp folder, removed).")
    ap.add_argument("--json", dest="json_out", default=None, help="Write the tallies here.")
    args = ap.parse_args(argv)
    names = [s for s in args.stages.split(",") if s]
    unknown = set(names) - set(STAGES)
    if unknown:
        ap.error(f"unknown stage(s) {sorted(unknown)}; choose from {', '.join(STAGES)}")
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="corpusmap-chaos-"))
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    try:
        inputs = make_inputs(work, args.docs, args.prompts, names != ["build"])
        stages = make_stages(work, inputs, names)
        results: dict[str, dict[str, int]] = {}
        bad = False
        for stage in stages:
            stage.reset()
            seconds = _run(stage.argv)  # an uninterrupted run: the reference and its time
            reference, _ = stage.read(stage.out)
            expected, _ = stage.read(stage.ref)  # type: ignore[attr-defined]
            if reference != expected:  # two uninterrupted runs must agree
                raise SystemExit(f"{stage.name}: two uninterrupted runs differ; not deterministic")
            start = stage.read(stage.start)[0] if stage.start else None
            if start == reference:
                raise SystemExit(f"{stage.name}: the stage adds nothing to its start; no test")
            # from half-way through the imports to the end: most kills land in the work
            window = [min(_import_seconds(stage.imports), seconds) / 2, seconds]
            for _ in range(args.trials):
                trial(stage, reference, window, rng, start)
            t = stage.tally
            results[stage.name] = dict(t) | {"reference_seconds": round(seconds, 2)}
            bad |= t["identical"] != t["trials"] or t["peek corrupt"] > 0
            print(
                f"{stage.name:9s} trials {t['trials']:3d}  identical {t['identical']:3d}  "
                f"corrupt {t['corrupt'] + t['peek corrupt']:2d}  lost {t['lost']:2d}  "
                f"duplicated {t['duplicated']:2d}  | peeks: refused {t['peek refused']}, "
                f"earlier state {t['peek earlier state']}, complete {t['peek complete']}; "
                f"finished before the kill {t['finished before the kill']} "
                f"(reference run {seconds:.1f} s)",
                flush=True,
            )
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(results, indent=2))
        return 1 if bad else 0
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
