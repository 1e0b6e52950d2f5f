"""bench/model_soup.py averages the language-model weights of same-architecture model directories."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from conftest import load_bench


def member(root: Path, name: str, value: float, config: str = '{"d_model": 4}') -> Path:
    directory = root / name
    (directory / "tokenizer").mkdir(parents=True)
    (directory / "tokenizer" / "tokenizer.json").write_text("{}")
    (directory / "config.json").write_text(config)
    (directory / "remogpt.json").write_text(json.dumps({"retrieval": "both", "training": {"seed": 0}}))
    save_file({"w": torch.full((2, 3), value), "b": torch.full((3,), -value)}, str(directory / "model.safetensors"),
              metadata={"format": "pt"})
    return directory


def run(monkeypatch, *args: str) -> None:
    monkeypatch.setattr(sys, "argv", ["model_soup.py", *args])
    load_bench("model_soup").main()


def test_the_soup_is_the_weighted_mean_and_keeps_the_first_members_files(tmp_path, monkeypatch):
    a, b = member(tmp_path, "a", 1.0), member(tmp_path, "b", 4.0)
    run(monkeypatch, str(a), str(b), "-o", str(tmp_path / "soup"), "--weights", "2,1")
    state = load_file(str(tmp_path / "soup" / "model.safetensors"))
    assert torch.allclose(state["w"], torch.full((2, 3), 2.0)) and torch.allclose(state["b"], torch.full((3,), -2.0))
    assert (tmp_path / "soup" / "tokenizer" / "tokenizer.json").is_file()
    manifest = json.loads((tmp_path / "soup" / "remogpt.json").read_text())
    assert manifest["training"]["soup_of"] == {str(a): 2.0, str(b): 1.0} and manifest["retrieval"] == "both"


def test_members_of_different_architectures_are_refused(tmp_path, monkeypatch):
    a, b = member(tmp_path, "a", 1.0), member(tmp_path, "b", 2.0, config='{"d_model": 8}')
    with pytest.raises(SystemExit, match="config.json differ"):
        run(monkeypatch, str(a), str(b), "-o", str(tmp_path / "soup"))
    assert not (tmp_path / "soup").exists()
