"""Every `remogpt train ...` command takes the same options for where it trains, its precision and its seed, and
hands them to its stage's config (and `train all` to every stage), so Lightning gets them."""

from __future__ import annotations

import pytest

STAGES = {  # command -> (module of its trainer, the trainer's name)
    "tokenizer": ("remogpt.tokenizer.train", "train_tokenizer"),
    "retriever": ("remogpt.retrieval.train", "train_retriever"),
    "evaluator": ("remogpt.evaluation.train", "train_evaluator"),
    "lm": ("remogpt.language.train", "train_language_model"),
}
SHARED = ["--accelerator", "cpu", "--devices", "2", "--num-nodes", "3", "--precision", "bf16-mixed", "--seed", "7"]


class Stop(Exception):
    """Raised by a stand-in trainer once it has seen its config."""


def _capture(monkeypatch, module: str, name: str, seen: list):
    import importlib

    def stand_in(config, *args, **kwargs):
        seen.append(config)
        raise Stop

    monkeypatch.setattr(importlib.import_module(module), name, stand_in)


@pytest.mark.parametrize("command", list(STAGES))
def test_every_train_command_passes_hardware_precision_and_seed(command, monkeypatch, synth_dir, tmp_path):
    from remogpt.cli import main

    seen = []
    _capture(monkeypatch, *STAGES[command], seen)
    extra = ["--tokenizer", tmp_path, "--index", tmp_path] if command == "lm" else []
    with pytest.raises(Stop):
        main(["train", command, "--data", str(synth_dir), "--out", str(tmp_path / "run"), *map(str, extra), *SHARED])
    (config,) = seen
    assert (config.accelerator, config.devices, config.num_nodes, config.precision, config.seed) == ("cpu", 2, 3, "bf16-mixed", 7)


def test_train_all_hands_the_hardware_to_every_stage(monkeypatch, synth_dir, tmp_path):
    from remogpt.train_all import TrainAllSettings, train_all

    seen = []
    _capture(monkeypatch, *STAGES["tokenizer"], seen)
    settings = TrainAllSettings(data=str(synth_dir), out=str(tmp_path / "all"), preset="tiny", accelerator="cpu", devices=2, num_nodes=2)
    with pytest.raises(Stop):
        train_all(settings, say=lambda _: None)
    assert (seen[0].accelerator, seen[0].devices, seen[0].num_nodes) == ("cpu", 2, 2)
    assert seen[0].precision is None  # the preset's: train all leaves it to each stage unless told


def test_a_run_may_resume_on_other_hardware_but_not_with_another_seed(run_cli, synth_dir, tmp_path):
    run = ["train", "tokenizer", "--data", synth_dir, "--out", tmp_path / "tok", "--preset", "tiny"]
    assert run_cli(*run, "--max-steps", "2")[0] == 0
    code, out, err = run_cli(*run, "--max-steps", "3", "--accelerator", "cpu", "--devices", "1", "--num-nodes", "1")
    assert code == 0, err
    code, _, err = run_cli(*run, "--max-steps", "4", "--seed", "99")
    assert code == 2 and "different settings (seed)" in err


@pytest.mark.parametrize("devices", ["0", "two", "-1"])
def test_bad_devices_are_one_sentence(run_cli, synth_dir, tmp_path, devices):
    code, _, err = run_cli("train", "tokenizer", "--data", synth_dir, "--out", tmp_path / "r", "--devices", devices)
    assert code == 2 and "--devices" in err and "Traceback" not in err
