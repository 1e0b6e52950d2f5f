"""KIT-ML end to end (issue 18): the built-in dataset retargeted to KIT's 21-joint skeleton (`data synth --skeleton
kit`: KIT units, 12.5 fps, 251-d features, minimum length 24), then the whole chain on it: train all, evaluate,
generate, caption, render and BVH."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from remogpt.data.folder import HumanML3DFolder
from remogpt.motion.kit import KIT_UNITS_PER_METRE, kit_to_smpl, smpl_to_kit
from remogpt.motion.skeleton import HUMANML3D


@pytest.fixture(scope="module")
def kit_dir(tmp_path_factory) -> Path:
    from remogpt.data.synth import synthesize

    out = tmp_path_factory.mktemp("kit") / "data"
    synthesize(out, 40, seed=0, timed_share=0.35, skeleton="kit")
    return out


@pytest.fixture(scope="module")
def kit_model(kit_dir, tmp_path_factory) -> Path:
    from remogpt.train_all import TrainAllSettings, train_all

    return train_all(TrainAllSettings(
        data=str(kit_dir), out=str(tmp_path_factory.mktemp("kit_model") / "model"), preset="tiny", tokenizer_steps=6,
        retriever_steps=4, evaluator_steps=4, lm_pretrain_steps=2, lm_steps=4, replications=1,
    ), say=lambda _: None)  # fmt: skip


def test_the_kit_folder_has_kits_format_and_scale(kit_dir, synth_dir, run_cli):
    folder = HumanML3DFolder(kit_dir)
    assert (folder.feature_dim, folder.num_joints, folder.fps, folder.format.min_frames) == (251, 21, 12.5, 24)
    code, out, _ = run_cli("data", "check", kit_dir)
    assert code == 0 and "no problems found" in out
    summary = json.loads((kit_dir / "synth.json").read_text())
    assert summary["skeleton"] == "kit" and summary["fps"] == 12.5
    # sized and oriented like the released KIT-ML features: the root height (index 3) and the forward root velocity
    # (index 2) of our Mean beside the official kit_mean.npy (559.6 units, +16.6 units per frame)
    mean = np.load(kit_dir / "Mean.npy")
    official = np.load(Path(__file__).resolve().parents[2] / "shared/data/evaluator/kit_mean.npy")
    assert abs(mean[3] - official[3]) / official[3] < 0.2
    assert mean[2] > 0 and abs(mean[2] - official[2]) / official[2] < 0.5
    # 20 -> 12.5 fps keeps the seconds (timed captions still point at the same motion): the same motion (seed 0,
    # index 0) in the 20-fps built-in folder lasts as long
    features = folder.load_features("000000")
    joints = np.load(kit_dir / "new_joints" / "000000.npy")
    assert joints.shape == (len(features), 21, 3)
    twenty = HumanML3DFolder(synth_dir).load_features("000000")
    assert abs(len(features) / 12.5 - len(twenty) / 20.0) < 0.1
    assert any("@" in s.name for s in folder.samples("all"))  # timed captions became crops at 12.5 fps


def test_kit_and_smpl_joints_convert_both_ways():
    rest = HUMANML3D.forward_kinematics(np.tile([1.0, 0, 0, 0], (1, 22, 1)), np.array([[0.0, 0.95, 0.0]]))  # the rest pose
    kit = smpl_to_kit(rest)
    assert kit.shape == (1, 21, 3)
    np.testing.assert_allclose(kit[0, 13], rest[0, 8] * KIT_UNITS_PER_METRE)  # right ankle
    assert kit[0, 11, 0] < kit[0, 16, 0]  # right hip at -x, as in the released features
    back = kit_to_smpl(kit)
    for smpl in (0, 1, 2, 4, 5, 7, 8, 9, 10, 11, 12, 15, 16, 17, 18, 19, 20, 21):  # the joints both skeletons have
        np.testing.assert_allclose(back[0, smpl], rest[0, smpl], atol=1e-12)


def test_the_whole_chain_runs_on_kit(kit_model, kit_dir, tmp_path, run_cli):
    from remogpt.render.bvh import JOINT_NAMES, read_bvh

    report = json.loads((kit_model / "report.json").read_text())
    assert report  # train all's evaluation report was written for the KIT model
    code, _, err = run_cli("generate", "a person walks forward", "-o", tmp_path / "walk.npy", "--features",
                           "--model", kit_model, "--seed", "0", "--length", "3")  # fmt: skip
    assert code == 0, err
    features = np.load(tmp_path / "walk.npy")
    assert features.shape[1] == 251 and abs(len(features) - 3 * 12.5) <= 4  # KIT's frame rate sets the length

    code, out, err = run_cli("caption", tmp_path / "walk.npy", "--model", kit_model)
    assert code == 0 and out.strip(), err
    code, _, err = run_cli("render", tmp_path / "walk.npy", "-o", tmp_path / "walk.gif")
    assert code == 0 and (tmp_path / "walk.gif").stat().st_size > 0, err
    code, out, err = run_cli("export", "bvh", tmp_path / "walk.npy", "-o", tmp_path / "walk.bvh")
    assert code == 0 and "at 12.5 fps" in out, err
    assert len(read_bvh(tmp_path / "walk.bvh").names) == 22
    # a KIT clip (rigid bones, unlike a tiny model's output) in metres on the SMPL tree: its right ankle moves as the
    # KIT one about the root
    from remogpt.motion.features import features_to_joints

    clip = kit_dir / "new_joint_vecs" / "000001.npy"
    code, out, err = run_cli("export", "bvh", clip, "-o", tmp_path / "clip.bvh")
    assert code == 0, err
    kit = features_to_joints(np.load(clip)) / KIT_UNITS_PER_METRE
    written = read_bvh(tmp_path / "clip.bvh")
    ankle, root = (written.names.index(JOINT_NAMES[j]) for j in (8, 0))  # file order is depth-first
    positions = written.positions()
    np.testing.assert_allclose(positions[:, ankle] - positions[:, root], kit[:, 13] - kit[:, 0], atol=0.01)  # the rigid fit: mm

    code, out, err = run_cli("evaluate", "t2m", "--data", kit_dir, "--model", kit_model, "--evaluator", kit_model / "evaluator",
                             "--replications", "1", "--mm-generations", "2", "--no-rare")  # fmt: skip
    assert code == 0, err
    assert "tokenizer reconstruction" in out and "retrieval only" in out
