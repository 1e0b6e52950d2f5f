"""Training on several processes: the step-based batch samplers shard by rank themselves (Lightning injects no
DistributedSampler), and a two-process CPU (gloo) run of the tokenizer and the retriever starts and finishes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


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


@pytest.mark.parametrize("stage", ["tokenizer", "retriever"])
def test_two_cpu_processes_train_a_stage(stage, synth_dir, tmp_path):
    out = tmp_path / stage
    command = [sys.executable, "-m", "remogpt.cli", "train", stage, "--data", str(synth_dir), "--out", str(out),
               "--preset", "tiny", "--max-steps", "6", "--accelerator", "cpu", "--devices", "2"]
    if stage == "retriever":
        command.append("--no-progress")
    done = subprocess.run(command, capture_output=True, text=True, timeout=400, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "model" / "model.safetensors").is_file() and (out / "checkpoints" / "last.ckpt").is_file()
