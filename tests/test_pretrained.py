"""save_pretrained / from_pretrained: config round trip, strict weights, clear errors."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
import torch
from torch import nn

from remogpt.errors import UserInputError
from remogpt.pretrained import Pretrained, config_from_dict, config_to_dict, model_type_of, read_config, write_config


@dataclass
class ToyConfig:
    width: int = 4
    scale: float = 1.0
    sizes: tuple[int, ...] = (2, 3)
    name: str | None = None


class Toy(Pretrained, nn.Module):
    model_type = "toy"
    config_class = ToyConfig

    def __init__(self, config: ToyConfig):
        super().__init__()
        self.config = config
        self.linear = nn.Linear(config.width, config.width)
        self.tied = self.linear  # shared tensors must survive safetensors
        self.register_buffer("counter", torch.zeros(()))


class Other(Toy):
    model_type = "other"


def test_round_trip_restores_config_and_weights(tmp_path):
    model = Toy(ToyConfig(width=3, scale=2, sizes=(5,), name="x"))
    model.counter.fill_(7)
    model.save_pretrained(tmp_path / "m")
    saved = json.loads((tmp_path / "m" / "config.json").read_text())
    assert saved["model_type"] == "toy" and "remogpt_version" in saved and saved["sizes"] == [5]
    assert model_type_of(tmp_path / "m") == "toy"

    loaded = Toy.from_pretrained(tmp_path / "m")
    assert loaded.config == ToyConfig(width=3, scale=2.0, sizes=(5,), name="x")
    assert not loaded.training
    assert loaded.counter.item() == 7
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key])
    assert loaded.tied is loaded.linear


def test_config_json_helpers(tmp_path):
    config = ToyConfig(width=8, sizes=(1, 2, 3))
    write_config(tmp_path / "c.json", config)
    assert read_config(tmp_path / "c.json", ToyConfig) == config
    assert config_from_dict(ToyConfig, config_to_dict(config)) == config
    with pytest.raises(UserInputError, match="unknown field"):
        config_from_dict(ToyConfig, {"widht": 3})


def test_missing_directory_or_files(tmp_path):
    with pytest.raises(UserInputError, match="does not exist"):
        Toy.from_pretrained(tmp_path / "nowhere")
    Toy(ToyConfig()).save_pretrained(tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").unlink()
    with pytest.raises(UserInputError, match="model.safetensors"):
        Toy.from_pretrained(tmp_path / "m")


def test_wrong_model_type_and_mismatched_weights(tmp_path):
    Toy(ToyConfig()).save_pretrained(tmp_path / "m")
    with pytest.raises(UserInputError, match="'toy' model, expected 'other'"):
        Other.from_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["width"] = 5
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(UserInputError, match="do not match"):
        Toy.from_pretrained(tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(UserInputError):
        Toy.from_pretrained(tmp_path / "m")


def test_run_directory_resolves_to_its_model_folder(tmp_path):
    Toy(ToyConfig(width=2)).save_pretrained(tmp_path / "run" / "model")
    (tmp_path / "run" / "config.json").write_text('{"lr": 0.1}')  # the run's own config does not confuse loading
    assert Toy.from_pretrained(tmp_path / "run").config.width == 2
    assert model_type_of(tmp_path / "run") == "toy"


def test_records_carry_no_folder_of_the_building_machine(tmp_path, monkeypatch):
    from remogpt.io import portable

    monkeypatch.chdir(tmp_path)
    inside, outside = str(tmp_path / "runs" / "model"), "/home/someone/secret/data/builtin"
    assert portable({"a": [inside, outside], "b": "relative/path", "c": 3}) == {
        "a": ["runs/model", ".../data/builtin"], "b": "relative/path", "c": 3,
    }


def test_the_shipped_model_records_no_absolute_path():
    from remogpt.shipped import shipped_model_dir

    root = shipped_model_dir()
    if root is None:
        pytest.skip("no shipped model in this installation")
    for path in [root / "remogpt.json", root / "report.json", root / "report.md", *root.glob("*/config.json")]:
        assert '"/' not in path.read_text() and " /" not in path.read_text().splitlines()[0], path
