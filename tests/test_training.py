"""Run directory, metrics.jsonl, checkpoints/last.ckpt and resume, with a toy regression module on CPU."""

from __future__ import annotations

import json
from dataclasses import dataclass

import lightning
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from remogpt.errors import UserInputError
from remogpt.training import fit, last_checkpoint, make_trainer, read_metrics, seed_everything, write_run_config


@dataclass
class ToyRun:
    lr: float = 0.1
    max_steps: int = 6


class Regression(lightning.LightningModule):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(3, 1)

    def training_step(self, batch, _):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.linear(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, _):
        x, y = batch
        self.log("val/loss", torch.nn.functional.mse_loss(self.linear(x), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def loaders():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(40, 3, generator=generator)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    data = TensorDataset(x, y)
    return DataLoader(data, batch_size=8, shuffle=True), DataLoader(data, batch_size=20)


def train(out_dir, max_steps):
    seed_everything(0)
    write_run_config(out_dir, ToyRun(max_steps=max_steps))
    trainer = make_trainer(out_dir, max_steps=max_steps, val_every_n_steps=3, log_every_n_steps=1, progress_bar=False)
    module = Regression()
    done = fit(trainer, module, *loaders(), out_dir)
    return trainer, module, done


def test_run_directory_metrics_checkpoint_and_resume(tmp_path):
    trainer, module, done = train(tmp_path, max_steps=7)  # 5 batches per epoch: crosses an epoch boundary
    assert done and trainer.global_step == 7
    assert (tmp_path / "config.json").is_file()
    assert last_checkpoint(tmp_path) is not None
    rows = read_metrics(tmp_path)
    assert [r["step"] for r in rows if "val/loss" in r] == [2, 5]  # every 3 steps (0-based step index)
    assert sum("train/loss" in r for r in rows) == 7

    trained = {k: v.clone() for k, v in module.state_dict().items()}
    trainer, again, done = train(tmp_path, max_steps=7)  # already finished: nothing to do, but the trained weights
    assert not done
    assert all(torch.equal(again.state_dict()[k], v) for k, v in trained.items())

    trainer, module, done = train(tmp_path, max_steps=10)  # continue from step 7
    assert done and trainer.global_step == 10
    losses = [r["train/loss"] for r in read_metrics(tmp_path) if "train/loss" in r]
    assert len(losses) == 10 and losses[-1] < losses[0]


def test_resuming_with_other_settings_is_refused(tmp_path):
    train(tmp_path, max_steps=3)
    with pytest.raises(UserInputError, match="lr"):
        write_run_config(tmp_path, ToyRun(lr=0.5, max_steps=3))


def test_a_setting_added_after_the_run_started_resumes_at_its_default(tmp_path):
    train(tmp_path, max_steps=3)

    @dataclass
    class ToyRunV2(ToyRun):  # the code gained a setting after the run was started
        dropout: float = 0.0

    write_run_config(tmp_path, ToyRunV2(max_steps=3))  # its default: the same run
    config = tmp_path / "config.json"
    config.write_text(json.dumps({k: v for k, v in json.loads(config.read_text()).items() if k != "dropout"}))
    with pytest.raises(UserInputError, match="dropout"):
        write_run_config(tmp_path, ToyRunV2(dropout=0.3, max_steps=3))


def test_auto_precision_is_bf16_only_where_the_hardware_computes_in_bf16(tmp_path, monkeypatch):
    from remogpt import training

    amd_avx2 = "flags : fpu sse sse2 avx f16c avx2 fma bmi2 sha_ni vaes"
    assert not training.has_native_bf16("cpu", cpu_flags=amd_avx2)
    assert not training.has_native_bf16("cpu", cpu_flags=amd_avx2 + " avx512f avx512bw")  # AVX-512 alone is not bf16
    assert training.has_native_bf16("cpu", cpu_flags=amd_avx2 + " avx512f avx512_bf16")
    assert training.has_native_bf16("cpu", cpu_flags="flags : avx2 amx_tile amx_bf16")
    assert training.resolved_precision("bf16-mixed") == "bf16-mixed" and training.resolved_precision(None) is None
    for native, expected in ((False, "32-true"), (True, "bf16-mixed")):
        monkeypatch.setattr(training, "has_native_bf16", lambda accelerator, native=native: native)
        assert training.resolved_precision("auto", "cpu") == expected
        trainer = training.make_trainer(tmp_path / expected, max_steps=1, val_every_n_steps=1, accelerator="cpu", devices=1, precision="auto")
        assert trainer.precision == expected
        # the run says what "auto" became on this machine, one line per start (the config keeps "auto")
        logged = [json.loads(line) for line in (tmp_path / expected / "hardware.jsonl").read_text().splitlines()]
        assert [(row["requested"], row["precision"], row["accelerator"]) for row in logged] == [("auto", expected, "cpu")]
        assert logged[0]["device"] and logged[0]["threads"] >= 1
    training.make_trainer(tmp_path / "bf16-mixed", max_steps=1, val_every_n_steps=1, accelerator="cpu", devices=1, precision="32")
    assert len((tmp_path / "bf16-mixed" / "hardware.jsonl").read_text().splitlines()) == 2  # a resume appends
    with pytest.raises(UserInputError, match="cannot run"):  # a trainer that cannot start records nothing
        training.make_trainer(tmp_path / "refused", max_steps=1, val_every_n_steps=1, accelerator="cpu", devices=1, precision="64-bogus")
    assert not (tmp_path / "refused" / "hardware.jsonl").exists()


def test_language_presets_ask_for_bf16_only_where_native():
    from remogpt.language.train import PRESETS

    assert {name: preset.get("precision") for name, preset in PRESETS.items()} == {
        "tiny": None, "small": "auto", "medium": "auto", "paper": "auto"
    }
