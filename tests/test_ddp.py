"""Training on several processes: the step-based batch samplers shard by rank themselves (Lightning injects no
DistributedSampler); two-process CPU (gloo) runs of every stage end as one run with the same parameters on both
ranks; and two processes follow one process's loss curve when the global batch is the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from pathlib import Path

import pytest

TOLERANCE = 1e-4  # relative difference of the logged training loss per step (measured: 1e-6, float sums in another order)


def test_step_batches_give_each_rank_its_own_batches(monkeypatch):
    from remogpt import training

    epoch_batches, per_epoch = training.shuffled_batches(40, 4, seed=3)
    seen = {}
    for rank in (0, 1):
        monkeypatch.setattr(training, "process_rank", lambda rank=rank: (rank, 2))
        stream = iter(training.StepBatches(epoch_batches, per_epoch))
        seen[rank] = [next(stream) for _ in range(5)]  # steps 0-4 of each process: batches 0-9 of epoch 0
    indices = [i for rank in (0, 1) for batch in seen[rank] for i, epoch in batch if epoch == 0]
    assert sorted(indices) == list(range(40))  # one epoch, every item once, no batch on both ranks
    monkeypatch.setattr(training, "process_rank", lambda: (0, 1))
    alone = iter(training.StepBatches(epoch_batches, per_epoch))
    assert [next(alone) for _ in range(2)] == [seen[0][0], seen[1][0]]  # one process: the same batches in turn


def test_two_ranks_see_per_step_what_one_process_sees_with_the_double_batch(monkeypatch):
    """Across epoch boundaries too: 45 items, batch 4 on 2 ranks (11 batches an epoch, one dropped) vs batch 8."""
    from remogpt import training

    def steps(batch: int, world: int, count: int) -> list[set]:
        epoch_batches, per_epoch = training.shuffled_batches(45, batch, seed=5)
        per_rank = []
        for rank in range(world):
            monkeypatch.setattr(training, "process_rank", lambda rank=rank: (rank, world))
            stream = iter(training.StepBatches(epoch_batches, per_epoch))
            per_rank.append([next(stream) for _ in range(count)])
        return [{item for batches in per_rank for item in batches[step]} for step in range(count)]

    assert steps(4, 2, 17) == steps(8, 1, 17)  # 5 steps an epoch: three epoch boundaries


def _train(stage: str, out: Path, data: Path, *extra: str, devices: int = 2) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "remogpt.cli", "train", stage, "--data", str(data), "--out", str(out),
               "--preset", "tiny", "--accelerator", "cpu", "--devices", str(devices), *extra]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _stage_options(stage: str, model_dir: Path) -> tuple[list[str], Path]:
    """Each stage's extra options for a short run, and where its run directory (metrics.jsonl) is under --out."""
    if stage == "lm":
        frozen = ["--tokenizer", str(model_dir / "motion_tokenizer"), "--index", str(model_dir / "database")]
        return [*frozen, "--pretrain-steps", "4", "--max-steps", "4"], Path("stages/instruct")
    steps = ["--max-steps", "6"] + (["--no-progress"] if stage in ("retriever", "evaluator") else [])
    return steps, Path(".")


@pytest.mark.parametrize("stage", ["tokenizer", "retriever", "evaluator", "lm"])
def test_two_cpu_processes_train_a_stage_as_one_run(stage, synth_dir, tiny_model_dir, tmp_path):
    """Two processes (gloo): the ranks end with the same parameters (checked in the run and logged), one run
    directory, one model, metrics rows written once, the final message printed once."""
    from remogpt.training import read_metrics

    options, run = _stage_options(stage, tiny_model_dir)
    out = tmp_path / stage
    done = _train(stage, out, synth_dir, *options)
    rows = read_metrics(out / run)
    agreement = [row for row in rows if "distributed/parameter_spread" in row]
    assert len(agreement) == 1 and agreement[0]["distributed/world_size"] == 2
    assert agreement[0]["distributed/parameter_spread"] == 0.0
    keys = [(row["step"], tuple(sorted(k for k in row if k != "time"))) for row in rows]
    assert len(keys) == len(set(keys)), "a metrics row was written by both processes"
    model = out if stage == "lm" else out / "model"
    assert (model / "model.safetensors").is_file() and (out / run / "checkpoints" / "last.ckpt").is_file()
    assert len([line for line in done.stdout.splitlines() if str(out) in line]) == 1, done.stdout


def test_two_processes_follow_the_loss_curve_of_one_process_with_the_same_global_batch(synth_dir, tmp_path):
    """The retriever: 2 processes x batch 4 see, step by step, the items 1 process x batch 8 sees (the step-based
    sampler's sharding), and the logged loss is the mean over processes: the curves agree to float rounding (the negatives are the global batch: retrieval/train.py)."""
    from remogpt.training import read_metrics

    curves = {}
    for devices, batch in ((1, 8), (2, 4)):
        out = tmp_path / f"d{devices}"
        _train("retriever", out, synth_dir, "--max-steps", "20", "--batch-size", str(batch), "--val-every", "20",
               "--no-progress", devices=devices)  # fmt: skip
        curves[devices] = {row["step"]: row["train/loss"] for row in read_metrics(out) if "train/loss" in row}
    assert curves[1].keys() == curves[2].keys() and len(curves[1]) >= 2
    for step, loss in curves[1].items():
        assert abs(curves[2][step] - loss) <= TOLERANCE * abs(loss), (step, loss, curves[2][step])


def test_train_all_on_two_processes(synth_dir, tmp_path):
    """The whole chain under DDP: every stage trains on both processes, the main one writes, the report is made once."""
    out = tmp_path / "model"
    command = [sys.executable, "-m", "remogpt.cli", "train", "all", "--data", str(synth_dir), "--out", str(out), "--preset",
               "tiny", "--tokenizer-steps", "6", "--retriever-steps", "6", "--evaluator-steps", "6", "--lm-pretrain-steps",
               "4", "--lm-steps", "4", "--replications", "1", "--accelerator", "cpu", "--devices", "2"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    stages = json.loads((out / "stages.json").read_text())
    assert list(stages) == ["statistics", "tokenizer", "retriever", "database", "evaluator", "language_model", "report"]
    assert (out / "report.md").is_file() and (out / "model.safetensors").is_file()
    assert done.stdout.count("[tokenizer] running") == 1 and done.stdout.count("model directory:") == 1
