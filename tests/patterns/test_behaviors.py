"""User behaviours from TOML and YAML: exact literals, regex, functions, classes, bits, errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpusmap.errors import CorpusmapError, InputError
from corpusmap.index.index import Index
from corpusmap.index.opening import open_index
from corpusmap.patterns import classify_patterns, mutual_information
from corpusmap.patterns.behaviors import load_behaviors
from tests.conftest import build_from_docs
from tests.patterns.planted import naive_count

TOML = """
[[behaviors]]
name = "alpha"
literal = "alpha beta"

[[behaviors]]
name = "new_word"
literal = "zorblax"

[[behaviors]]
name = "never_said"
literal = "u1a u1b"

[[behaviors]]
name = "kappa"
regex = '\\bkappa\\b'
flags = "i"

[[behaviors]]
name = "exclaims"
function = "mybeh:exclamations"
"""

YAML = """
behaviors:
  - name: alpha
    literal: alpha beta
  - name: new_word
    literal: zorblax
  - name: never_said
    literal: u1a u1b
  - name: kappa
    regex: '\\bkappa\\b'
    flags: i
  - name: exclaims
    function: mybeh:exclamations
"""

MODULE = """
def exclamations(text):
    return text.count("!")


def bad(text):
    return "many"
"""


def _world(tmp: Path) -> tuple[Index, pa.Table, list[list[str]]]:
    """Corpus: random words, 'alpha beta' in 5 docs, 'u1a u1b' in 100, 'kappa' and '!' here and
    there. Generations: 10 prompts with 'alpha beta' answered with it, 10 prompts with 'kappa'
    answered with it (their true continuations never have it), 20 plain, 3 with 'zorblax'."""
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(2000)]

    def rand(k: int) -> list[str]:
        return [vocab[i] for i in rng.integers(0, len(vocab), k)]

    docs = [rand(30) for _ in range(120)]
    for d in range(5):
        docs[d] += ["alpha", "beta"]
    for d in range(10, 110):
        docs[d] += ["u1a", "u1b"]
    for d in range(60, 64):
        docs[d] += ["kappa", "!", *rand(2), "!"]
    ix = open_index(build_from_docs(tmp, [" ".join(d) for d in docs], tokenizer="words"))
    prompts, outputs, conts = [], [], []
    for i in range(40):
        if i < 10:
            p, o, c = [*rand(5), "alpha", "beta"], ["alpha", "beta", *rand(8)], None
        elif i < 20:
            p, o, c = [*rand(5), "kappa"], ["Kappa", *rand(8)], " ".join(rand(6))
        else:
            p, o, c = rand(6), rand(9) + (["zorblax", "!"] if i < 23 else []), None
        prompts.append(" ".join(p))
        outputs.append(" ".join(o))
        conts.append(c)
    ids = [f"g{i}" for i in range(40)]
    table = pa.table({"gen_id": ids, "prompt_id": ids, "prompt": prompts, "output": outputs,
                      "continuation": conts})  # fmt: skip
    return ix, table, docs


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("beh")
    ix, table, docs = _world(tmp)
    (tmp / "mybeh.py").write_text(MODULE)
    (tmp / "b.toml").write_text(TOML)
    (tmp / "b.yaml").write_text(YAML)
    out = {}
    for name in ("b.toml", "b.yaml"):
        res = tmp / f"r-{name}"
        summary = classify_patterns(res, table, ix, behaviors=tmp / name, corpus_sample=10_000)
        rows = pq.read_table(res / "behaviors" / "part-00000.parquet").to_pylist()
        out[name] = {"summary": summary, "rows": {r["behavior"]: r for r in rows}}
    return {"ix": ix, "table": table, "docs": docs, **out}


def test_toml_and_yaml_agree(run: dict[str, Any]) -> None:
    assert run["b.toml"]["rows"] == run["b.yaml"]["rows"]
    assert run["b.toml"]["summary"]["behaviors"]["count"] == 5


def test_literal_is_exact_through_the_index(run: dict[str, Any]) -> None:
    row = run["b.toml"]["rows"]["alpha"]
    assert row["type"] == "literal" and row["sample_docs"] is None
    assert row["count_corpus"] == run["ix"].count("alpha beta") == 5
    assert row["count_corpus"] == naive_count(run["docs"], ["alpha", "beta"])[0]
    outs = [o.split() for o in run["table"].column("output").to_pylist()]
    assert (row["count_generations"], row["n_generations"]) == naive_count(outs, ["alpha", "beta"])
    assert row["corpus_opportunities"] == sum(len(d) - 1 for d in run["docs"])
    assert row["class"] == "shared"


def test_regex_and_function_on_the_sample(run: dict[str, Any]) -> None:
    rows, ix = run["b.toml"]["rows"], run["ix"]
    texts = [ix.document(d) for d in range(ix.n_docs)]
    kappa = rows["kappa"]
    assert kappa["sample_docs"] == ix.n_docs  # corpus_sample >= documents: all of them
    assert kappa["count_corpus"] == sum(len(re.findall(r"\bkappa\b", t, re.I)) for t in texts)
    assert kappa["count_generations"] == kappa["n_generations"] == 10
    assert kappa["corpus_opportunities"] == ix.n_tokens
    excl = rows["exclaims"]
    assert excl["type"] == "function" and excl["count_corpus"] == 8
    assert excl["count_generations"] == 3


def test_behaviour_classes(run: dict[str, Any]) -> None:
    cls = {k: r["class"] for k, r in run["b.toml"]["rows"].items()}
    assert cls == {"alpha": "shared", "new_word": "idiosyncratic", "never_said": "unexpressed",
                   "kappa": "contingent", "exclaims": "shared"}  # fmt: skip


def test_mutual_information_of_prompt_and_output(run: dict[str, Any]) -> None:
    """'alpha beta' is on the output exactly when it is on the prompt (10 of 40): I = H(1/4)."""
    row = run["b.toml"]["rows"]["alpha"]
    x = np.arange(40) < 10
    assert row["mi_bits"] == pytest.approx(mutual_information(x, x))
    assert mutual_information(x, x, corrected=False) == pytest.approx(
        -(0.25 * np.log2(0.25) + 0.75 * np.log2(0.75))
    )
    assert row["mi_low"] <= row["mi_bits"] <= row["mi_high"] and row["mi_pairs"] == 40
    assert row["feature"] == "behavior"


def test_feature_from_the_generations_results(run: dict[str, Any], tmp_path: Path) -> None:
    table = run["table"]
    copied = [20 if i < 10 else 0 for i in range(40)]  # the 'alpha' generations copy
    (tmp_path / "generations").mkdir()
    pq.write_table(pa.table({"gen_id": table.column("gen_id"), "longest_nonprompt_match": copied}),
                   tmp_path / "generations" / "part-00000.parquet")  # fmt: skip
    beh = tmp_path / "b.toml"
    beh.write_text('[[behaviors]]\nname = "alpha"\nliteral = "alpha beta"\n')
    summary = classify_patterns(tmp_path, table, run["ix"], behaviors=beh, feature="copied>=16")
    (row,) = pq.read_table(tmp_path / "behaviors" / "part-00000.parquet").to_pylist()
    assert row["feature"] == "copied>=16" and summary["behaviors"]["feature"] == "copied>=16"
    x = np.arange(40) < 10
    assert row["mi_bits"] == pytest.approx(mutual_information(x, x))
    with pytest.raises(CorpusmapError, match="no column 'nope'"):
        classify_patterns(tmp_path, table, run["ix"], behaviors=beh, feature="nope>=1")


@pytest.mark.parametrize(
    "text,match",
    [
        ('[[behaviors]]\nname = "a"\nliteral = "x"\n[[behaviors]]\nliteral = "y"\n',
         r"behaviors\[1\]: needs a non-empty string 'name'"),
        ('[[behaviors]]\nname = "a"\nliteral = "x"\nregex = "y"\n',
         r"behaviors\[0\] \('a'\): needs exactly one of"),
        ('[[behaviors]]\nname = "a"\nliteral = "x"\nlitteral = "y"\n',
         r"behaviors\[0\] \('a'\): unknown key\(s\) litteral"),
        ('[[behaviors]]\nname = "a"\nregex = "(unclosed"\n', r"\('a'\): invalid regex"),
        ('[[behaviors]]\nname = "a"\nfunction = "no_such_mod_xyz:f"\n',
         r"\('a'\): cannot import module 'no_such_mod_xyz'"),
        ('[[behaviors]]\nname = "a"\nfunction = "mybeh:missing"\n', r"no function 'missing'"),
        ('[[behaviors]]\nname = "a"\nfunction = "mybeh"\n', r"must be written module:function"),
        ('[[behaviors]]\nname = "a"\nliteral = "x"\n[[behaviors]]\nname = "a"\nliteral = "y"\n',
         r"behaviors\[1\] \('a'\): duplicate name"),
        ('[[behaviors]\nname = "a"\n', r"invalid TOML"),
        ('title = "no list"\n', r"expected a non-empty list 'behaviors'"),
    ],
)  # fmt: skip
def test_bad_files_name_the_file_and_entry(tmp_path: Path, text: str, match: str) -> None:
    (tmp_path / "mybeh.py").write_text(MODULE)
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=match) as err:
        load_behaviors(path)
    assert str(path) in str(err.value)


def test_bad_yaml_and_types(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("behaviors:\n  - name: a\n    literal: [unclosed\n")
    with pytest.raises(InputError, match=r"bad.yaml:\d+:\d+: invalid YAML"):
        load_behaviors(path)
    path.write_text("behaviors:\n  - name: a\n    regex: x\n    flags: q\n")
    with pytest.raises(InputError, match=r"'flags' applies to regex only"):
        load_behaviors(path)
    with pytest.raises(InputError, match="not found"):
        load_behaviors(tmp_path / "missing.toml")
    (tmp_path / "b.json").write_text("{}")
    with pytest.raises(InputError, match=r"use \.toml, \.yaml or \.yml"):
        load_behaviors(tmp_path / "b.json")


def test_function_returning_a_bad_value(run: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "mybeh.py").write_text(MODULE)
    beh = tmp_path / "b.toml"
    beh.write_text('[[behaviors]]\nname = "worse"\nfunction = "mybeh:bad"\n')
    with pytest.raises(CorpusmapError, match=r"behaviors\[0\] \('worse'\): the function returned"):
        classify_patterns(tmp_path / "r", run["table"], run["ix"], behaviors=beh)
