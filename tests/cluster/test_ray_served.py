"""``open_index(path, ray=...)``: shards served by Ray actors answer as the local ``Index``.

The reference is the local ``Index`` of the same folder (itself checked against
naive scans in ``tests/index``). Hypothesis draws queries over a tiny alphabet, so
most of them occur, many across several shards; locate's limit is small, so the
choice of which occurrences to show is exercised too.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpusmap.errors import CorpusmapError
from corpusmap.index.index import Index
from corpusmap.index.opening import open_index
from corpusmap.index.ray_served import RayIndex
from tests.conftest import build_from_docs

VOCAB = 5


@pytest.fixture(scope="module")
def pair(ray_local, tmp_path_factory):
    """A 6-shard index over short documents of ids 0..4, opened locally and on Ray."""
    rng = np.random.default_rng(7)
    docs = [rng.integers(0, VOCAB, rng.integers(1, 30)).tolist() for _ in range(300)]
    path = build_from_docs(tmp_path_factory.mktemp("served"), docs, shard_tokens=800, minhash=True)
    local = Index(path)
    assert len(local.shards) >= 6
    default = open_index(path, ray="local")  # one actor per core's share of shards
    assert isinstance(default, RayIndex) and default.count([[0]]) == local.count([[0]])
    default.close()
    served = RayIndex(path, ray="local", shards_per_actor=2)
    yield local, served
    served.close()


queries = st.lists(
    st.lists(st.integers(0, VOCAB - 1), min_size=0, max_size=8), min_size=1, max_size=6
)
_settings = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_settings
@given(qs=queries, limit=st.integers(1, 12))
def test_served_answers_equal_local(pair, qs, limit) -> None:
    local, served = pair
    assert served.count(qs) == local.count(qs)
    got, want = served.matching_statistics(qs), local.matching_statistics(qs)
    assert [g.tolist() for g in got] == [w.tolist() for w in want]
    assert served.longest_match(qs) == local.longest_match(qs)
    assert served.locate(qs, limit=limit) == local.locate(qs, limit=limit)
    assert served.locate_docs(qs, limit=limit) == local.locate_docs(qs, limit=limit)
    assert served.ntd(qs, limit=3) == local.ntd(qs, limit=3)
    assert served.continued_count(qs).tolist() == local.continued_count(qs).tolist()


@_settings
@given(
    c_min=st.dictionaries(
        st.integers(1, 6), st.floats(0.0, 80.0, allow_nan=False), min_size=1, max_size=4
    )
)
def test_served_frequent_ngrams_equal_local(pair, c_min) -> None:
    """The probe of each shard depends on the whole index's shard count, not the actor's."""
    local, served = pair
    got, want = served.frequent_ngrams(c_min), local.frequent_ngrams(c_min)
    assert sorted(got) == sorted(want)
    for n in want:
        assert got[n].dtype == want[n].dtype and got[n].tolist() == want[n].tolist(), n


@_settings
@given(
    wants=st.dictionaries(st.integers(1, 5), st.integers(1, 12), min_size=1, max_size=3),
    qs=queries,
    limit=st.integers(1, 4),
)
def test_served_ngrams_and_first_docs_equal_local(pair, wants, qs, limit) -> None:
    """The several-shard two-pass ``ngrams`` and ``first_docs``, run in the actors."""
    local, served = pair
    got, want = served.ngrams(wants), local.ngrams(wants)
    assert sorted(got) == sorted(want)
    for n in want:
        for g, w in zip(got[n], want[n], strict=True):
            assert g.tolist() == w.tolist(), n
    assert served.first_docs(qs, limit) == local.first_docs(qs, limit)


def test_served_suffix_runs_refused_and_info(pair) -> None:
    """Suffix runs live where their shard is: one clear refusal; info from the actors."""
    local, served = pair
    with pytest.raises(CorpusmapError, match="suffix runs stay in the actors"):
        served.suffix_runs(4)
    assert served.info()["block_checksums"] == local.info()["block_checksums"]


@_settings
@given(doc_ids=st.lists(st.integers(0, 299), min_size=1, max_size=5))
def test_served_documents_equal_local(pair, doc_ids) -> None:
    local, served = pair
    for d in doc_ids:
        assert served.document(d) == local.document(d)
        assert served.document_info(d) == local.document_info(d)
    texts = [local.document_tokens(d) for d in doc_ids]
    assert served.near_duplicates(texts, threshold=0.5) == local.near_duplicates(
        texts, threshold=0.5
    )
    assert served.doc_lengths.tolist() == local.doc_lengths.tolist()


def test_served_index_survives_a_killed_actor(pair) -> None:
    """An actor killed between queries is restarted and answers the next ones."""
    import ray

    local, served = pair
    qs = [[0, 1], [2], [3, 3, 4]]
    ray.kill(served._actors[0], no_restart=False)
    assert served.count(qs) == local.count(qs)
    assert served.locate(qs, limit=5) == local.locate(qs, limit=5)


def test_cli_queries_with_ray_flag(pair) -> None:
    """``corpusmap index count/locate/ntd ... --ray local`` print what they print without it."""
    from click.testing import CliRunner

    from corpusmap.cli import cli

    local, _ = pair
    runner = CliRunner()
    for cmd in (["count"], ["locate", "--limit", "3"], ["ntd"], ["match"]):
        args = ["index", *cmd, str(local.path), "0 1", "2 2", "--tokens", "--json"]
        plain = runner.invoke(cli, args)
        on_ray = runner.invoke(cli, [*args, "--ray", "local"])
        assert plain.exit_code == 0 and on_ray.exit_code == 0, on_ray.output
        assert on_ray.output == plain.output
    doc = runner.invoke(cli, ["index", "document", str(local.path), "7", "--ray", "local"])
    assert doc.output == local.document(7) + "\n"
