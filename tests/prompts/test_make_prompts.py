"""make_prompts: positions, continuations, duplication filter, noise."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from corpusmap.errors import CorpusmapError
from corpusmap.index.opening import open_index
from corpusmap.prompts import make_prompts
from corpusmap.prompts.noise import perturb
from tests.conftest import build_from_docs


@pytest.fixture
def ix(tmp_path):
    texts = [
        f"document number {i} says something rather long about topic {i % 7}." for i in range(30)
    ]
    texts += ["this exact sentence is repeated many times in the corpus."] * 5
    return open_index(build_from_docs(tmp_path, texts))


def test_prompts_are_real_corpus_positions(ix, tmp_path) -> None:
    t = make_prompts(
        ix, 20, prefix_tokens=10, continuation_tokens=8, seed=3, out=tmp_path / "p.parquet"
    )
    assert t.num_rows == 20
    for row in t.to_pylist():
        doc = ix.document_tokens(row["doc_id"])
        o = row["offset"]
        assert doc[o : o + 10].tolist() == row["index_prompt_ids"]
        assert doc[o + 10 : o + 18].tolist() == row["index_continuation_ids"]
        assert row["prompt"] + row["continuation"] == ix.tokenizer.decode(doc[o : o + 18])
        assert row["corpus_count"] == ix.count(doc[o : o + 18])
    assert pq.read_table(tmp_path / "p.parquet").equals(t)
    again = make_prompts(ix, 20, prefix_tokens=10, continuation_tokens=8, seed=3)
    assert again.column("prompt").to_pylist() == t.column("prompt").to_pylist()


def test_from_duplicated_keeps_repeated_spans(ix) -> None:
    t = make_prompts(ix, 5, prefix_tokens=10, continuation_tokens=10, from_duplicated=True)
    assert t.num_rows == 5
    assert min(t.column("corpus_count").to_pylist()) >= 2


def test_too_long_prompts_fail_clearly(ix) -> None:
    with pytest.raises(CorpusmapError, match="no document has"):
        make_prompts(ix, 3, prefix_tokens=500, continuation_tokens=500)


def test_noise_kinds() -> None:
    text = "The quick brown fox jumps over the lazy dog"
    assert perturb(text, "case", 0.0, 1) == text
    assert perturb(text, "case", 1.0, 1) == text.swapcase()
    dropped = perturb(text, "char-drop", 0.3, 1)
    assert len(dropped) < len(text) and dropped.count(" ") == text.count(" ")
    swapped = perturb(text, "char-swap", 0.3, 1)
    assert sorted(swapped) == sorted(text) and swapped != text
    assert perturb(text, "whitespace", 1.0, 2).replace(" ", "") == text.replace(" ", "")
    with pytest.raises(CorpusmapError):
        perturb(text, "shuffle", 0.1, 0)


def test_noisy_prompts_keep_the_original(ix) -> None:
    t = make_prompts(ix, 4, prefix_tokens=20, continuation_tokens=5, noise="case", noise_rate=1.0)
    for row in t.to_pylist():
        assert row["prompt"] == row["original_prompt"].swapcase() and row["noise"] == "case"


def test_sweep_has_every_kind_and_rate_and_names_its_clean_original(ix) -> None:
    """3 positions x (clean + 2 kinds x 2 non-zero rates) = 15 rows, each tied to its original."""
    t = make_prompts(
        ix, 3, prefix_tokens=12, continuation_tokens=4, noise="char-swap,case",
        noise_rate="0,0.1,0.5",
    )  # fmt: skip
    rows = t.to_pylist()
    assert len(rows) == 3 * (1 + 2 * 2)
    clean = {r["prompt_id"]: r for r in rows if r["noise"] is None}
    assert len(clean) == 3 and all(r["noise_rate"] == 0.0 for r in clean.values())
    assert all(r["original_prompt_id"] == pid for pid, r in clean.items())
    cells = {(r["original_prompt_id"], r["noise"], r["noise_rate"]) for r in rows if r["noise"]}
    assert cells == {(p, k, x) for p in clean for k in ("char-swap", "case") for x in (0.1, 0.5)}
    for r in rows:
        orig = clean[r["original_prompt_id"]]
        assert r["original_prompt"] == orig["prompt"] and r["continuation"] == orig["continuation"]
        if r["noise"] == "case":  # the same characters, some with their case flipped
            assert r["prompt"].lower() == orig["prompt"].lower()
        if r["noise"] == "char-swap":
            assert sorted(r["prompt"]) == sorted(orig["prompt"])
    assert len({r["prompt_id"] for r in rows}) == len(rows)

    # a higher rate perturbs more characters (summed over the prompts)
    def changed(kind: str, rate: float) -> int:
        return sum(
            sum(a != b for a, b in zip(r["prompt"], r["original_prompt"], strict=True))
            for r in rows if r["noise"] == kind and r["noise_rate"] == rate
        )  # fmt: skip

    assert 0 < changed("case", 0.1) < changed("case", 0.5)


def test_prompts_cli_writes_a_sweep(ix, tmp_path) -> None:
    from click.testing import CliRunner

    from corpusmap.cli import cli

    out = tmp_path / "sweep.parquet"
    res = CliRunner().invoke(
        cli,
        ["prompts", str(ix.path), "--out", str(out), "--n", "2", "--prefix-tokens", "10",
         "--continuation-tokens", "4", "--noise", "char-drop,whitespace", "--noise-rate", "0,0.2"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    t = pq.read_table(out)
    assert t.num_rows == 2 * 3 and "(4 of them perturbed)" in res.output
    assert set(t.column("noise").to_pylist()) == {None, "char-drop", "whitespace"}
    bad = CliRunner().invoke(
        cli, ["prompts", str(ix.path), "--out", str(out), "--noise", "shuffle"]
    )
    assert bad.exit_code != 0 and "unknown --noise 'shuffle'" in bad.output


def test_sources_keeps_prompts_in_those_documents(tmp_path) -> None:
    import json

    import pyarrow as pa

    from corpusmap.index.build import build_index

    for name in ("alpha", "beta"):
        lines = [json.dumps({"text": f"{name} text number {i} " * 4}) for i in range(5)]
        (tmp_path / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
    files = [str(tmp_path / "alpha.jsonl"), str(tmp_path / "beta.jsonl")]
    ix = open_index(build_index(files, tmp_path / "ix", tokenizer="words"))
    docs = pa.concat_tables([s.docs for s in ix.shards]).to_pylist()
    beta = {d["source"] for d in docs if "beta" in d["source"]}
    t = make_prompts(ix, 8, prefix_tokens=3, continuation_tokens=2, sources=sorted(beta))
    source_of = {d["doc_id"]: d["source"] for d in docs}
    assert t.num_rows > 0 and {source_of[d] for d in t.column("doc_id").to_pylist()} == beta
    assert "alpha" not in " ".join(t.column("prompt").to_pylist())
