"""The foot-contact clean-up of decoded motions (motion/foot_contact.py): planted feet held still by the root's
path and two-bone IK, on real clips, a clip made to slide, and KIT's skeleton."""

from __future__ import annotations

import numpy as np
import pytest

from remogpt.data.synth.quality import foot_skating
from remogpt.motion.features import features_to_joints
from remogpt.motion.foot_contact import _runs, _two_bone_knee, plant_feet


@pytest.fixture(scope="module")
def walks(synth_dir):
    from remogpt.data.folder import HumanML3DFolder

    folder = HumanML3DFolder(synth_dir)
    return [folder.load_features(i) for i in folder.ids("train")[:16]]


def sliding(features: np.ndarray, metres_per_frame: float = 0.005) -> np.ndarray:
    """The clip with its root drifting sideways at a constant speed: every planted foot slides."""
    moved = features.astype(np.float64).copy()
    moved[:, 1] += metres_per_frame  # root velocity, facing frame x
    return moved.astype(np.float32)


def test_a_sliding_clip_is_brought_back_to_its_feet(walks):
    before = np.mean([foot_skating(features_to_joints(f)) for f in walks])
    slid = [sliding(f) for f in walks]
    skating = np.mean([foot_skating(features_to_joints(f)) for f in slid])
    cleaned = np.mean([foot_skating(features_to_joints(plant_feet(f))) for f in slid])
    assert skating > before + 0.07  # 0.1 m/s of drift under every planted foot
    assert cleaned - before < 0.2 * (skating - before), (before, skating, cleaned)  # four fifths of it gone


def test_clean_clips_stay_as_they_are(walks):
    for features in walks[:4]:
        cleaned = plant_feet(features)
        assert cleaned.shape == features.shape and cleaned.dtype == np.float32
        joints, after = features_to_joints(features), features_to_joints(cleaned)
        # only the legs below the hips move, and little; the root, the rotations and the contacts stay as decoded
        legs = [4, 5, 7, 8, 10, 11]
        others = [j for j in range(22) if j not in legs]
        np.testing.assert_allclose(after[:, others], joints[:, others], atol=1e-5)
        assert np.abs(after - joints).max() < 0.1
        np.testing.assert_array_equal(cleaned[:, :4], features[:, :4])
        np.testing.assert_array_equal(cleaned[:, 67:193], features[:, 67:193])
        np.testing.assert_array_equal(cleaned[:, -4:], features[:, -4:])
        assert foot_skating(after) <= foot_skating(joints) * 1.1 + 1e-3
        np.testing.assert_allclose(plant_feet(cleaned), cleaned, atol=5e-3)  # held feet stay held (to millimetres)


def test_written_back_positions_decode_to_the_solved_joints(walks):
    from remogpt.motion.foot_contact import with_positions

    features = walks[0].astype(np.float64)
    joints = features_to_joints(features).astype(np.float64)
    joints[:, [5, 8, 11]] += np.array([0.03, -0.01, 0.02])  # the right leg, moved
    written = with_positions(features, joints, [5, 8, 11])
    np.testing.assert_allclose(features_to_joints(written), joints, atol=1e-5)
    # local velocities as process_file writes them: the step to the next frame in the root's facing frame
    from remogpt.motion.features import joints_to_features

    reference = joints_to_features(features_to_joints(written), retarget_skeleton=False)
    velocity = slice(193 + 3 * 8, 193 + 3 * 8 + 3)  # the right ankle's
    np.testing.assert_allclose(written[:-1, velocity], reference[:, velocity], atol=2e-3)


def test_the_knee_keeps_the_bone_lengths():
    rng = np.random.default_rng(0)
    hip, knee = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    ankle = knee + rng.normal(size=(50, 3))
    thigh, shin = np.linalg.norm(knee - hip, axis=-1), np.linalg.norm(ankle - knee, axis=-1)
    target = ankle + rng.normal(scale=0.1, size=(50, 3))
    solved = _two_bone_knee(hip, knee, target, thigh, shin)
    np.testing.assert_allclose(np.linalg.norm(solved - hip, axis=-1), thigh, rtol=1e-9)
    reachable = np.linalg.norm(target - hip, axis=-1) < thigh + shin
    np.testing.assert_allclose(np.linalg.norm(target - solved, axis=-1)[reachable], shin[reachable], rtol=1e-6)


def test_runs_join_short_gaps():
    mask = np.array([0, 1, 1, 0, 1, 0, 0, 0, 1, 1], bool)
    assert _runs(mask, gap=1) == [(1, 5), (8, 10)]
    assert _runs(mask, gap=0) == [(1, 3), (4, 5), (8, 10)]
    assert _runs(np.zeros(4, bool)) == []


def test_kit_features_are_cleaned_too(tmp_path):
    from remogpt.data.synth import synthesize

    synthesize(tmp_path / "kit", 4, seed=1, skeleton="kit")
    features = np.load(tmp_path / "kit" / "new_joint_vecs" / "000000.npy")
    cleaned = plant_feet(sliding(features, 10.0))  # KIT units per frame
    assert cleaned.shape == features.shape


def test_the_pipeline_cleans_every_decoded_motion_unless_told(tiny_model_dir, tmp_path, run_cli):
    from remogpt.pipeline import ReMoGPT

    model = ReMoGPT.from_pretrained(tiny_model_dir)
    assert model.sampling.plant_feet
    codes = [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]]
    cleaned = model.decode(codes)[0]
    model.sampling.plant_feet = False
    raw = model.decode(codes)[0]
    np.testing.assert_allclose(cleaned, plant_feet(raw), atol=1e-5)
    code, _, err = run_cli("generate", "a person walks", "-o", tmp_path / "a.npy", "--features", "--model", tiny_model_dir,
                           "--seed", "3", "--raw-feet")  # fmt: skip
    assert code == 0, err
    code, _, err = run_cli("generate", "a person walks", "-o", tmp_path / "b.npy", "--features", "--model", tiny_model_dir, "--seed", "3")
    assert code == 0, err
    np.testing.assert_allclose(np.load(tmp_path / "b.npy"), plant_feet(np.load(tmp_path / "a.npy")), atol=1e-5)

