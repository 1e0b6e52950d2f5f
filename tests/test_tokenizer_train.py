"""Training the tokenizer: tiny preset on a small folder, run directory, resume, token identity, CLI exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from remogpt.data.folder import HumanML3DFolder, write_motion, write_split, write_stats
from remogpt.motion.stats import mean_std
from remogpt.tokenizer import MotionTokenizer
from remogpt.tokenizer.train import TokenizerModule, make_config, train_tokenizer
from remogpt.training import read_metrics


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny models run fastest on one thread, and the CI machine is shared (two threads thrash under load)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def write_folder(root: Path, motions: list[np.ndarray], mean=None, std=None) -> Path:
    ids = [f"{i:06d}" for i in range(len(motions))]
    for motion_id, motion in zip(ids, motions):
        write_motion(root, motion_id, features=motion)
    n = len(ids)
    write_split(root, "train", ids[: n - 4])
    write_split(root, "val", ids[n - 4 : n - 2])
    write_split(root, "test", ids[n - 2 :])
    if mean is None:
        mean, std = mean_std(motions)
    write_stats(root, mean, std)
    return root


@pytest.fixture(scope="module")
def source_clip(request, tmp_path_factory) -> Path:
    """A 170-frame clip: the real HumanML3D 012314 where ../shared/data is present, else a built-in synthetic one
    (so these tests run everywhere). Its folder's Mean.npy / Std.npy lie two levels up."""
    from conftest import SHARED_DATA

    real = SHARED_DATA / "humanml3d" / "new_joint_vecs" / "012314.npy"
    if real.is_file():
        return real
    synth = request.getfixturevalue("synth_dir")
    folder = HumanML3DFolder(synth)
    longest = max(folder.ids("train"), key=lambda i: len(folder.load_features(i)))
    assert len(folder.load_features(longest)) >= 170, "the built-in generator makes clips of up to 9.8 s"
    clip_dir = tmp_path_factory.mktemp("clip")
    (clip_dir / "new_joint_vecs").mkdir()
    np.save(clip_dir / "new_joint_vecs" / "012314.npy", folder.load_features(longest)[:170])
    for name in ("Mean.npy", "Std.npy"):
        (clip_dir / name).write_bytes((synth / name).read_bytes())
    return clip_dir / "new_joint_vecs" / "012314.npy"


@pytest.fixture(scope="module")
def real_clip_folder(tmp_path_factory, source_clip) -> Path:
    """16 motions cut from a 170-frame clip (real where available) with small noise, and its dataset's Mean/Std."""
    clip = np.load(source_clip)
    mean, std = np.load(source_clip.parents[1] / "Mean.npy"), np.load(source_clip.parents[1] / "Std.npy")
    rng = np.random.default_rng(0)
    motions = []
    for _ in range(16):
        start = int(rng.integers(0, 60))
        length = int(rng.integers(48, 170 - start + 1))
        noise = rng.normal(scale=0.02, size=(length, 263)).astype(np.float32) * std
        motions.append(clip[start : start + length] + noise)
    return write_folder(tmp_path_factory.mktemp("real_clip"), motions, mean, std)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, real_clip_folder) -> Path:
    out = tmp_path_factory.mktemp("run")
    train_tokenizer(make_config("tiny", data=real_clip_folder, max_steps=30), out, progress_bar=False)
    return out


def test_tiny_training_writes_a_run_directory_and_loss_decreases(tiny_run, real_clip_folder):
    assert (tiny_run / "checkpoints" / "last.ckpt").is_file()
    config = json.loads((tiny_run / "config.json").read_text())
    assert config["preset"] == "tiny" and config["max_steps"] == 30 and config["model"]["codebook_size"] == 32
    rows = read_metrics(tiny_run)
    val = [r for r in rows if "val/loss" in r]
    assert [r["step"] for r in val] == [9, 19, 29]
    assert val[-1]["val/loss"] < val[0]["val/loss"]
    assert all(0 < r["val/codebook_usage"] <= 1 and r["val/mpjpe_mm"] > 0 and r["val/perplexity"] >= 1 for r in val)
    model = MotionTokenizer.from_pretrained(tiny_run)  # the run directory finds its model/
    mean, std = HumanML3DFolder(real_clip_folder).mean_std()
    np.testing.assert_array_equal(model.mean.numpy(), mean)
    np.testing.assert_array_equal(model.std.numpy(), std)


def test_resume_continues_and_keeps_the_codebook(tmp_path, real_clip_folder):
    out = tmp_path / "run"
    train_tokenizer(make_config("tiny", data=real_clip_folder, max_steps=10), out, progress_bar=False)
    motions = list(HumanML3DFolder(real_clip_folder).load_many(["000000", "000001"]).values())
    tokens = MotionTokenizer.from_pretrained(out).encode(motions)

    # the Lightning checkpoint holds the same model, k-means flag included: same tokens in eval and train mode
    state = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    config = MotionTokenizer.from_pretrained(out).config
    fresh = MotionTokenizer(config)
    assert not fresh.codebook_initialised
    fresh.load_state_dict({k.removeprefix("model."): v for k, v in state["state_dict"].items()})
    assert fresh.codebook_initialised
    assert fresh.eval().encode(motions) == tokens
    assert fresh.train().encode(motions) == tokens

    train_tokenizer(make_config("tiny", data=real_clip_folder, max_steps=10), out, progress_bar=False)  # done already: no-op
    assert MotionTokenizer.from_pretrained(out).encode(motions) == tokens
    assert max(r["step"] for r in read_metrics(out)) == 9

    train_tokenizer(make_config("tiny", data=real_clip_folder, max_steps=20), out, progress_bar=False)  # resumes at step 10
    steps = [r["step"] for r in read_metrics(out) if "train/loss" in r]
    assert steps == [9, 19]  # continued, not restarted
    assert torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 20


def test_cli_train_tokenize_evaluate(tmp_path, tiny_run, real_clip_folder, source_clip, run_cli):
    code, out, err = run_cli("tokenize", source_clip, "--tokenizer", tiny_run)
    assert code == 0, err
    tokens = [int(t) for t in out.split()]
    assert len(tokens) == 170 // 4 and all(0 <= t < 32 for t in tokens)

    report = tmp_path / "eval.json"
    code, out, err = run_cli(
        "evaluate", "tokenizer", "--tokenizer", tiny_run, "--data", real_clip_folder, "-o", report
    )
    assert code == 0, err
    metrics = json.loads(report.read_text())
    assert metrics["split"] == "test" and metrics["motions"] == 2
    assert metrics["mpjpe_mm"] > 0 and 0 < metrics["codebook_usage"] <= 1 and metrics["perplexity"] >= 1

    code, out, err = run_cli(
        "train", "tokenizer", "--data", real_clip_folder, "--out", tmp_path / "cli_run", "--preset", "tiny",
        "--max-steps", "2",
    )
    assert code == 0, err
    assert (tmp_path / "cli_run" / "model" / "model.safetensors").is_file()


def test_cli_bad_input_exits_2(tmp_path, tiny_run, real_clip_folder, run_cli):
    short = tmp_path / "short.npy"
    np.save(short, np.zeros((3, 263), np.float32))
    code, _, err = run_cli("tokenize", short, "--tokenizer", tiny_run)
    assert code == 2 and "at least 4" in err and "short.npy" in err

    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((20, 100), np.float32))
    code, _, err = run_cli("tokenize", wrong, "--tokenizer", tiny_run)
    assert code == 2 and "(T, 263)" in err

    code, _, err = run_cli("tokenize", wrong, "--tokenizer", tmp_path / "nowhere")
    assert code == 2 and "does not exist" in err

    code, _, err = run_cli("train", "tokenizer", "--data", real_clip_folder, "--out", tmp_path / "r", "--preset", "huge")
    assert code == 2 and "preset 'huge'" in err

    code, _, err = run_cli("evaluate", "tokenizer", "--tokenizer", tiny_run, "--data", real_clip_folder, "--split", "nope")
    assert code == 2 and "split 'nope'" in err


def test_a_resumed_run_trains_exactly_like_an_uninterrupted_one(tmp_path, real_clip_folder, monkeypatch):
    """Killed at step 8 of 12 (its last checkpoint at step 5, mid-epoch) and resumed, the run ends with the same
    weights and codebook as one that ran straight through: batches, crops and the quantizer's randomness are
    functions of (seed, step); the optimizer and the schedule come back from the checkpoint."""
    import dataclasses

    from remogpt.tokenizer.train import TokenizerModule

    config = dataclasses.replace(make_config("tiny", data=real_clip_folder, max_steps=12), val_every=5)
    train_tokenizer(config, tmp_path / "straight", progress_bar=False)

    class Killed(Exception):
        pass

    def die_at_step_8(module, *args):
        if module.trainer.global_step == 8:
            raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(TokenizerModule, "on_train_batch_end", die_at_step_8, raising=False)
        with pytest.raises(Killed):
            train_tokenizer(config, tmp_path / "resumed", progress_bar=False)
    torch.manual_seed(12345)  # whatever the process did in between must not matter
    np.random.seed(54321)
    train_tokenizer(config, tmp_path / "resumed", progress_bar=False)
    straight = torch.load(tmp_path / "straight" / "checkpoints" / "last.ckpt", weights_only=True)
    resumed = torch.load(tmp_path / "resumed" / "checkpoints" / "last.ckpt", weights_only=True)
    assert straight["global_step"] == resumed["global_step"] == 12  # both finished
    for name, value in straight["state_dict"].items():
        assert torch.equal(value, resumed["state_dict"][name]), name
    other = dataclasses.replace(config, seed=config.seed + 1)  # and the seed matters
    train_tokenizer(other, tmp_path / "other", progress_bar=False)
    changed = torch.load(tmp_path / "other" / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    assert any(not torch.equal(value, changed[name]) for name, value in straight["state_dict"].items())
