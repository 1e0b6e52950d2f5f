"""`remogpt train retriever`, `index build`, `retrieve` and `evaluate retrieval` end to end on a toy dataset."""

import json

import numpy as np
import pytest
import torch

from remogpt.data.folder import Caption, write_motion, write_split, write_stats
from remogpt.motion.parts import body_part_dims
from remogpt.retrieval.model import PLTMR
from remogpt.training import checkpoint_step, read_metrics

torch.set_num_threads(1)  # tiny ops: extra threads only contend on a shared CPU

ACTIONS = {"waves": "left_arm", "kicks": "right_leg", "bows": "backbone", "punches": "right_arm"}


def make_toy_dataset(root, count=48, seed=0):
    """Noise motions where each action moves one body part; two captions each; ids 0..count-1 split 2:1:1."""
    rng = np.random.default_rng(seed)
    parts = body_part_dims(22)
    ids = []
    for i in range(count):
        action, part = list(ACTIONS.items())[i % len(ACTIONS)]
        frames = int(rng.integers(40, 80))
        features = 0.3 * rng.normal(size=(frames, 263)).astype(np.float32)
        features[:, parts[part]] += np.sin(np.arange(frames) / 4.0 + rng.uniform(0, 6))[:, None]
        motion_id = f"{i:06d}"
        write_motion(root, motion_id, features=features, captions=[Caption(f"a person {action}"), Caption(f"someone {action} now")])
        ids.append(motion_id)
    half, three_quarters = count // 2, count * 3 // 4
    write_split(root, "train", ids[:half])
    write_split(root, "val", ids[half:three_quarters])
    write_split(root, "test", ids[three_quarters:])
    write_stats(root, np.zeros(263), np.ones(263))
    return root


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_toy_dataset(tmp_path_factory.mktemp("toy"))


@pytest.fixture(scope="module")
def trained(toy, tmp_path_factory):
    """One tiny training run shared by the tests below (in-process CLI, the default MiniLM text encoder)."""
    from remogpt.cli import main

    run = tmp_path_factory.mktemp("run") / "pltmr"
    args = ["train", "retriever", "--data", toy, "--out", run, "--preset", "tiny", "--max-steps", "30",
            "--val-every", "15", "--no-progress", "--duplicate-threshold", "0.95"]
    with pytest.raises(SystemExit) as done:
        main([str(a) for a in args])
    assert done.value.code == 0
    return run


def test_training_writes_a_run_directory(trained):
    assert (trained / "config.json").is_file() and (trained / "text_features.npz").is_file()
    assert checkpoint_step(trained / "checkpoints" / "last.ckpt") == 30
    rows = read_metrics(trained)
    losses = [r["train/loss"] for r in rows if "train/loss" in r]
    assert losses[-1] < losses[0]
    assert any("val/t2m_R@1" in r for r in rows)
    model = PLTMR.from_pretrained(trained / "model")
    assert model.config.parts == 6 and model.config.token_dim == 384 and model.config.duplicate_threshold == 0.95


def test_runs_can_share_one_text_cache(toy, tmp_path, run_cli):
    cache = tmp_path / "shared" / "captions.npz"
    for parts in ("6", "1"):
        code, _, err = run_cli("train", "retriever", "--data", toy, "--out", tmp_path / parts, "--parts", parts,
                               "--preset", "tiny", "--max-steps", "2", "--val-every", "2", "--no-progress",
                               "--text-cache", cache)
        assert code == 0, err
        assert not (tmp_path / parts / "text_features.npz").exists()
    assert cache.is_file()
    assert PLTMR.from_pretrained(tmp_path / "1" / "model").config.parts == 1


def test_resume_continues_and_a_finished_run_is_a_no_op(trained, toy, run_cli):
    common = ["train", "retriever", "--data", toy, "--out", trained, "--preset", "tiny", "--val-every", "15",
              "--no-progress", "--duplicate-threshold", "0.95"]
    code, _, err = run_cli(*common, "--max-steps", "34")
    assert code == 0, err
    assert checkpoint_step(trained / "checkpoints" / "last.ckpt") == 34
    from safetensors.torch import load_file

    before = load_file(trained / "model" / "model.safetensors")
    code, _, err = run_cli(*common, "--max-steps", "34")
    assert code == 0, err
    after = load_file(trained / "model" / "model.safetensors")  # re-exported from the checkpoint: same weights
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    code, _, err = run_cli(*common, "--max-steps", "34", "--parts", "1")
    assert code == 2 and "different settings" in err


def test_index_build_and_retrieve_by_text_and_motion(trained, toy, tmp_path, run_cli):
    index = tmp_path / "index"
    code, out, err = run_cli("index", "build", "--retriever", trained, "--data", toy, "--out", index,
                             "--text-cache", trained / "text_features.npz")  # the run's cache: no encoder pass
    assert code == 0, err
    assert "24 motions, 48 captions" in out

    code, out, err = run_cli("retrieve", "a person waves", "--index", index, "--k", "3")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "text->motion:" and lines[4] == "text->text:"
    assert lines[1].strip().startswith("1.") and len(lines) == 8

    code, out, err = run_cli("retrieve", "a person waves", "--index", index, "--k", "2", "--json", "--exclude-caption")
    assert code == 0, err
    hits = json.loads(out)["hits"]
    assert set(hits) == {"text->motion", "text->text"}
    assert all(h["caption"] != "a person waves" for h in hits["text->text"])
    sims = [h["similarity"] for h in hits["text->motion"]]
    assert sims == sorted(sims, reverse=True)

    motion = toy / "new_joint_vecs" / "000000.npy"
    code, out, err = run_cli("retrieve", "--motion", motion, "--index", index, "--k", "2", "--exclude-id", "000000", "--json")
    assert code == 0, err
    hits = json.loads(out)["hits"]
    assert list(hits) == ["motion->text", "motion->motion"]
    assert all(h["motion_id"] != "000000" for kind in hits.values() for h in kind)


def test_evaluate_writes_json_and_a_table_naming_the_protocol(trained, toy, tmp_path, run_cli):
    code, out, err = run_cli("evaluate", "retrieval", "--retriever", trained, "--data", toy, "--protocol", "a",
                             "--out", tmp_path)
    assert code == 0, err
    assert "(a) all, gallery 12" in out
    result = json.loads((tmp_path / "retrieval_test_a.json").read_text())
    assert result["protocol"] == "a" and result["parts"] == 6 and 0 <= result["t2m"]["R@1"] <= 100
    assert "protocol(s) a" in (tmp_path / "retrieval_test_a.md").read_text()
    code, out, err = run_cli("evaluate", "retrieval", "--retriever", trained / "model", "--data", toy,
                             "--protocol", "all", "--out", tmp_path)
    assert code == 0, err
    assert "(b) threshold" in out and "(c) dissimilar" in out  # (d) needs 32 pairs: left out on 12


@pytest.mark.parametrize(
    "args, message",
    [
        (["retrieve", "a person waves", "--index", "missing_index"], "has no config.json"),
        (["retrieve", "--index", "missing_index"], "either a query TEXT or --motion"),
        (["evaluate", "retrieval", "--retriever", "nowhere", "--data", "nowhere"], "neither a PL-TMR model folder"),
    ],
)
def test_bad_input_exits_2(args, message, run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(*args)
    assert code == 2 and message in err


def test_bad_training_options_exit_2(toy, run_cli, tmp_path):
    code, _, err = run_cli("train", "retriever", "--data", toy, "--out", tmp_path / "r", "--parts", "3")
    assert code == 2 and "--parts" in err
    code, _, err = run_cli("train", "retriever", "--data", toy, "--out", tmp_path / "r", "--preset", "huge")
    assert code == 2 and "--preset" in err
    code, _, err = run_cli("evaluate", "retrieval", "--retriever", tmp_path, "--data", toy, "--protocol", "z")
    assert code == 2


def test_bad_query_motion_exits_2(trained, toy, tmp_path, run_cli):
    index = tmp_path / "index"
    run_cli("index", "build", "--retriever", trained, "--data", toy, "--out", index)
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((10, 7), np.float32))
    code, _, err = run_cli("retrieve", "--motion", bad, "--index", index)
    assert code == 2 and "bad.npy" in err
