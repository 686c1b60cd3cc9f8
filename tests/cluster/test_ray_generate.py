"""``generate(ray=...)``: parts on Ray write the rows of a local run, exactly once.

The reference is ``generate`` without Ray on the same prompts, model, engine and
part size (tests/generation/tiny.py: a seeded tiny Llama). Rows are compared by
``gen_id`` (token ids exactly, log-probs to float rounding); the store must hold
each ``gen_id`` once and its manifest must count every row.

vLLM needs a GPU, so ``--engine vllm`` runs on the stand-in ``vllm`` of
tests/generation (``fake_vllm/``, put on the workers' ``PYTHONPATH``) and on a Ray
instance told it has GPUs: Ray schedules by the ``GPU`` resource and sets
``CUDA_VISIBLE_DEVICES`` per replica, which the fake engine logs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from corpusmap.errors import CorpusmapError
from corpusmap.generation import GenerationStore, generate, vllm_backend
from corpusmap.generation.store import MANIFEST
from tests.cluster.background import in_background
from tests.generation.tiny import PROMPTS, assert_same_rows, rows_by_id

ray = pytest.importorskip("ray")
FAKE_VLLM = Path(__file__).parent / "fake_vllm"
ROOT = Path(__file__).resolve().parents[2]

KW = {"max_new_tokens": 6, "num_samples": 3, "temperature": 0.8, "part_rows": 4, "batch_size": 4}


def _check_store(path, expected: dict) -> None:
    table = GenerationStore(path).to_arrow()
    ids = table.column("gen_id").to_pylist()
    assert len(ids) == len(set(ids)) == len(expected)  # every row exactly once
    assert_same_rows(rows_by_id(table), expected)
    m = json.loads((path / MANIFEST).read_text())
    assert sum(p["rows"] for p in m["runs"][0]["parts"]) == len(expected)


def test_ray_generate_matches_local_and_resumes(ray_local, tiny_model, tmp_path) -> None:
    local = generate(tiny_model, PROMPTS, tmp_path / "local", **KW)
    expected = rows_by_id(local.to_arrow())
    out = tmp_path / "ray"
    store = generate(tiny_model, PROMPTS[:4], out, ray="local", **KW)  # a first, partial call
    assert store.summary["rows_written"] == 12
    store = generate(tiny_model, PROMPTS, out, ray="local", **KW)  # resumes: the rest only
    assert store.summary["rows_written"] == 9 and store.summary["rows_skipped"] == 12
    assert store.summary["tokens"] > 0
    _check_store(out, expected)


def test_ray_generate_survives_losing_a_node(ray_cluster, tiny_model, tmp_path) -> None:
    """A worker node removed mid-run: nothing written is lost, nothing is duplicated."""
    cluster, workers = ray_cluster
    prompts = [f"{p} {i}" for i in range(4) for p in PROMPTS]
    kw = dict(KW, part_rows=3)
    expected = rows_by_id(generate(tiny_model, prompts, tmp_path / "local", **kw).to_arrow())
    out = tmp_path / "ray"
    t, errors = in_background(generate, tiny_model, prompts, out, ray=cluster.address, **kw)
    deadline = time.time() + 180
    while time.time() < deadline and not list(out.glob("part-*.parquet")):
        time.sleep(0.05)
    finished = len(list(out.glob("part-*.parquet")))
    assert finished, "no part written in time"
    cluster.remove_node(workers[1])
    t.join(timeout=300)
    assert not errors, errors
    assert finished < len(expected) // 3
    _check_store(out, expected)


@contextmanager
def _ray_with_gpus(gpus: int) -> Iterator[None]:
    """A local Ray told it has ``gpus`` GPUs (Ray schedules by the resource), shut after."""
    if ray.is_initialized():
        ray.shutdown()
    ray.init(address="local", num_cpus=2, num_gpus=gpus, include_dashboard=False,
             log_to_driver=False, _node_ip_address="127.0.0.1")  # fmt: skip
    try:
        yield
    finally:
        ray.shutdown()


def test_ray_hf_on_gpus_uses_one_replica_per_gpu(tiny_model, tmp_path, monkeypatch) -> None:
    """``--engine hf`` on a cluster with GPUs: replica actors (a reused task worker could
    keep its model on an earlier task's GPU); rows equal a local run's."""
    from corpusmap.generation import ray_generate

    expected = rows_by_id(generate(tiny_model, PROMPTS, tmp_path / "local", **KW).to_arrow())
    used: list[str] = []
    on_replicas, on_tasks = ray_generate._on_replicas, ray_generate._on_tasks
    monkeypatch.setattr(
        ray_generate, "_on_replicas", lambda *a: used.append("replicas") or on_replicas(*a)
    )
    monkeypatch.setattr(ray_generate, "_on_tasks", lambda *a: used.append("tasks") or on_tasks(*a))
    out = tmp_path / "ray"
    with _ray_with_gpus(2):
        generate(tiny_model, PROMPTS, out, ray="local", **KW)
    assert used == ["replicas"]
    _check_store(out, expected)


# ---- --engine vllm ------------------------------------------------------------------
@pytest.fixture
def fake_vllm(monkeypatch, tmp_path) -> Path:
    """The on-disk fake ``vllm`` here and, through PYTHONPATH, in every Ray worker; its log."""
    log = tmp_path / "engines.jsonl"
    path = [str(FAKE_VLLM), str(ROOT), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in path if p))
    monkeypatch.setenv("CORPUSMAP_FAKE_VLLM_LOG", str(log))
    monkeypatch.setenv("CORPUSMAP_FAKE_VLLM_FAIL", str(tmp_path / "fail"))
    spec = importlib.util.spec_from_file_location("vllm", FAKE_VLLM / "vllm" / "__init__.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "vllm", module)
    monkeypatch.setattr(vllm_backend, "_ENGINES", {})
    return log


def _engines(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _check_replicas(built: list[dict], reference: dict, gpus: int) -> None:
    """Engines built by one Ray call: in workers, at most one per GPU, as a local run builds."""
    assert 1 <= len(built) <= gpus
    assert all(e["pid"] != os.getpid() for e in built)  # the driver built none
    assert len({e["pid"] for e in built}) == len(built)  # one engine per replica process
    held = [e["gpus"] for e in built]
    assert len(set(held)) == len(held) and all(g in {str(i) for i in range(gpus)} for g in held)
    options = {k: v for k, v in reference.items() if k not in ("pid", "gpus")}
    assert all({k: v for k, v in e.items() if k not in ("pid", "gpus")} == options for e in built)


VLLM_KW = dict(KW, engine="vllm", stop=["!"])


def test_ray_vllm_replicas_match_local_and_resume(fake_vllm, tiny_model, tmp_path) -> None:
    """One vLLM replica per GPU, built in the workers; rows equal a local vLLM run's."""
    local = generate(tiny_model, PROMPTS, tmp_path / "local", **VLLM_KW)
    expected = rows_by_id(local.to_arrow())
    (reference,) = _engines(fake_vllm)
    assert reference["pid"] == os.getpid()
    with _ray_with_gpus(2):
        out = tmp_path / "ray"
        store = generate(tiny_model, PROMPTS[:4], out, ray="local", **VLLM_KW)
        assert store.summary["rows_written"] == 12
        first = _engines(fake_vllm)[1:]
        _check_replicas(first, reference, gpus=2)
        store = generate(tiny_model, PROMPTS, out, ray="local", **VLLM_KW)  # resumes
        assert store.summary["rows_written"] == 9 and store.summary["rows_skipped"] == 12
        _check_replicas(_engines(fake_vllm)[1 + len(first) :], reference, gpus=2)
        (tmp_path / "fail").touch()  # a replica that cannot load the model: one clear error
        with pytest.raises(CorpusmapError, match=r"could not build its engine: RuntimeError: fake"):
            generate(tiny_model, PROMPTS, tmp_path / "failed", ray="local", **VLLM_KW)
    _check_store(out, expected)
    assert all(r["engine"] == "vllm" for r in expected.values())


def test_ray_vllm_survives_losing_a_gpu_node(fake_vllm, tiny_model, tmp_path) -> None:
    """A GPU node removed mid-run: its part is redone by the other replica, exactly once."""
    from ray.cluster_utils import Cluster

    prompts = [f"{p} {i}" for i in range(4) for p in PROMPTS]
    kw = dict(VLLM_KW, part_rows=3)
    expected = rows_by_id(generate(tiny_model, prompts, tmp_path / "local", **kw).to_arrow())
    if ray.is_initialized():
        ray.shutdown()
    head = {"num_cpus": 0, "include_dashboard": False}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    workers = [cluster.add_node(num_cpus=1, num_gpus=1) for _ in range(2)]
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    out = tmp_path / "ray"
    try:
        t, errors = in_background(generate, tiny_model, prompts, out, ray=cluster.address, **kw)
        deadline = time.time() + 180  # both replicas hold an engine: the lost one has work
        while time.time() < deadline and len(_engines(fake_vllm)) < 3:
            time.sleep(0.05)
        assert len(_engines(fake_vllm)) == 3, "the two replicas did not start in time"
        finished = len(list(out.glob("part-*.parquet")))
        cluster.remove_node(workers[1])
        t.join(timeout=300)
        assert not errors, errors
    finally:
        ray.shutdown()
        cluster.shutdown()
    assert finished < len(expected) // 3
    built = _engines(fake_vllm)[1:]  # both nodes held a replica, so the lost one had work
    assert len({e["pid"] for e in built}) >= 2 and all(e["gpus"] == "0" for e in built)
    _check_store(out, expected)


def test_ray_vllm_without_gpus_fails_in_one_line(fake_vllm, tiny_model, tmp_path) -> None:
    """``--engine vllm --ray local`` on a machine without GPUs: one error line, not a wait."""
    if ray.is_initialized():
        ray.shutdown()
    prompts = tmp_path / "p.txt"
    prompts.write_text("\n".join(PROMPTS) + "\n")
    out = tmp_path / "G.parquet"
    args = ["generate", "--model", tiny_model, "--prompts", str(prompts), "--out", str(out)]
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")  # Ray then finds no GPU, even on a GPU host
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "corpusmap", *args, "--engine", "vllm", "--ray", "local"],
        capture_output=True, text=True, env=env, timeout=240,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "needs GPUs" in lines[0] and "has none" in lines[0], lines
    assert time.time() - started < 240
    assert not out.exists()  # refused before the store was opened
