"""The motion representation against real HumanML3D data (acceptance of issue 2) and its own invariants."""

from __future__ import annotations

import numpy as np
import pytest

from remogpt.motion import (
    HUMANML3D,
    KIT,
    BODY_PART_NAMES,
    body_part_dims,
    feature_dim,
    feature_groups,
    features_to_joints,
    joints_to_features,
    mean_std,
    renormalize,
)
from remogpt.motion.features import canonical_joints
from remogpt.motion.mirror import mirror_caption, mirror_joints
from remogpt.motion.quaternion import qnormalize, qrot, quat_from_axis_angle


def test_decoding_released_features_reproduces_released_joints(humanml3d_dir):
    features = np.load(humanml3d_dir / "new_joint_vecs" / "012314.npy")
    joints = np.load(humanml3d_dir / "new_joints" / "012314.npy")
    assert np.abs(features_to_joints(features) - joints).max() < 1e-5


def test_encoding_raw_smplh_joints_round_trips(humanml3d_dir):
    raw = np.load(humanml3d_dir / "joints" / "000021.npy")  # (180, 52, 3), turns through 180 degrees
    features = joints_to_features(raw)
    assert features.shape == (179, 263) and features.dtype == np.float32
    contacts = features[:, feature_groups()["foot_contacts"]]
    assert set(np.unique(contacts)) <= {0.0, 1.0} and 0 < contacts.mean() < 1
    retargeted = canonical_joints(raw[:, :22])
    assert np.abs(features_to_joints(features) - retargeted[:-1]).max() < 1e-4


def test_released_yaw_quirk_is_available_and_drifts(humanml3d_dir):
    raw = np.load(humanml3d_dir / "joints" / "000021.npy")
    released = joints_to_features(raw, fix_yaw_flip=False)
    fixed = joints_to_features(raw)
    differing = np.flatnonzero(np.abs(released - fixed).max(axis=0) > 0)
    assert differing.tolist() == [0]  # only the root angular velocity changes
    drift = np.abs(features_to_joints(released) - canonical_joints(raw[:, :22])[:-1]).max()
    assert drift > 0.05


def test_reencoding_released_joints_reproduces_released_features(humanml3d_dir):
    features = np.load(humanml3d_dir / "new_joint_vecs" / "012314.npy")
    joints = np.load(humanml3d_dir / "new_joints" / "012314.npy")
    again = joints_to_features(joints)
    assert again.shape == (169, 263)
    # The released joints lack the clip's last frame, so the sigma-20 facing smoothing differs near the end;
    # away from it every group matches to float32 precision of the released (torch float32) computation.
    error = np.abs(again - features[:-1])
    for name, group in feature_groups().items():
        assert error[:110, group].max() < 5e-5, name
    assert error[:, feature_groups()["foot_contacts"]].max() == 0


def test_target_skeleton_matches_reference_clip(humanml3d_dir):
    raw = np.load(humanml3d_dir / "joints" / "000021.npy")
    np.testing.assert_allclose(HUMANML3D.offsets_from_pose(raw[0, :22]), HUMANML3D.target_offsets, atol=1e-12)


def test_retargeted_bones_have_target_lengths(humanml3d_dir):
    raw = np.load(humanml3d_dir / "joints" / "000021.npy")[:, :22] * 1.3  # a taller person
    joints = features_to_joints(joints_to_features(raw))
    lengths = np.linalg.norm(joints[:, 1:] - joints[:, HUMANML3D.parents[1:]], axis=-1)
    np.testing.assert_allclose(lengths, np.broadcast_to(np.linalg.norm(HUMANML3D.target_offsets[1:], axis=-1), lengths.shape), atol=1e-5)
    assert joints[..., 1].min() == pytest.approx(0.0, abs=1e-6)  # on the floor


def test_fk_ik_round_trip_random_pose():
    rng = np.random.default_rng(0)
    frames = 30
    quats = qnormalize(np.concatenate([np.ones((frames, 22, 1)) * 3, rng.normal(size=(frames, 22, 3))], axis=-1))
    # root rotation: yaw only, as IK produces
    quats[:, 0] = quat_from_axis_angle(np.array([0.0, 1.0, 0.0]), rng.uniform(-1, 1, frames))
    root = rng.normal(size=(frames, 3))
    joints = HUMANML3D.forward_kinematics(quats, root)
    again = HUMANML3D.forward_kinematics(HUMANML3D.inverse_kinematics(joints), root)
    # IK sets frame 0's root rotation to identity (released quirk), so compare from frame 1; bone directions are
    # reproduced exactly, twist about a bone is not recoverable from positions and does not move the joints.
    np.testing.assert_allclose(again[1:], joints[1:], atol=1e-2)


def test_body_parts_partition_the_feature_vector():
    for num_joints in (22, 21):
        parts = body_part_dims(num_joints)
        assert tuple(parts) == BODY_PART_NAMES
        everything = np.concatenate(list(parts.values()))
        assert np.array_equal(np.sort(everything), np.arange(feature_dim(num_joints)))
    sizes = {name: len(dims) for name, dims in body_part_dims(22).items()}
    assert sizes == {"root": 7, "backbone": 60, "left_arm": 48, "right_arm": 48, "left_leg": 50, "right_leg": 50}
    assert body_part_dims(22)["left_leg"][-2:].tolist() == [259, 260]
    assert body_part_dims(22)["root"].tolist() == [0, 1, 2, 3, 193, 194, 195]


def test_left_arm_dims_follow_the_left_wrist(humanml3d_dir):
    """Moving only the left wrist changes only left-arm dims (and nothing of the other parts)."""
    joints = np.load(humanml3d_dir / "new_joints" / "012314.npy").astype(np.float64)
    moved = joints.copy()
    moved[:, 20] += np.array([0.0, 0.05, 0.0])
    diff = np.abs(joints_to_features(moved, retarget_skeleton=False) - joints_to_features(joints, retarget_skeleton=False)).max(axis=0)
    changed = set(np.flatnonzero(diff > 1e-6).tolist())
    assert changed and changed <= set(body_part_dims(22)["left_arm"].tolist())


def test_mean_std_group_structure_matches_official(humanml3d_dir):
    official = np.load(humanml3d_dir / "Std.npy")
    rng = np.random.default_rng(1)
    clips = [np.load(humanml3d_dir / "new_joint_vecs" / "012314.npy")] + [rng.normal(size=(50, 263)).astype(np.float32)]
    mean, std = mean_std(clips)
    for group in feature_groups().values():
        assert np.ptp(official[group]) == 0  # the official file is constant per group...
        assert np.ptp(std[group]) < 1e-6  # ...and so is ours
    assert mean.shape == std.shape == (263,)


def test_renormalize_to_evaluator_statistics(shared_data):
    model_mean, model_std = np.load(shared_data / "humanml3d" / "Mean.npy"), np.load(shared_data / "humanml3d" / "Std.npy")
    eval_mean, eval_std = np.load(shared_data / "evaluator" / "t2m_mean.npy"), np.load(shared_data / "evaluator" / "t2m_std.npy")
    raw = np.load(shared_data / "humanml3d" / "new_joint_vecs" / "012314.npy")
    model_normalised = (raw - model_mean) / model_std
    np.testing.assert_allclose(renormalize(model_normalised, model_mean, model_std, eval_mean, eval_std), (raw - eval_mean) / eval_std, rtol=1e-4, atol=1e-3)


def test_mirroring_swaps_sides_and_captions():
    joints = HUMANML3D.forward_kinematics(np.tile([1.0, 0, 0, 0], (2, 22, 1)), np.zeros((2, 3)))
    mirrored = mirror_joints(joints)
    np.testing.assert_allclose(mirror_joints(mirrored), joints, atol=1e-12)
    left_wrist, right_wrist = 20, 21
    np.testing.assert_allclose(mirrored[:, left_wrist], joints[:, right_wrist] * [-1, 1, 1])
    assert joints[0, left_wrist, 0] > 0 and mirrored[0, right_wrist, 0] < 0  # the left side is +x
    assert mirror_caption("A person raises the Left hand, then the right leg; leftover") == (
        "A person raises the Right hand, then the left leg; leftover"
    )
    assert mirror_caption("walks clockwise, then Counterclockwise") == "walks counterclockwise, then Clockwise"


def test_kit_skeleton_dimensions():
    assert feature_dim(KIT.num_joints) == 251 and KIT.fps == 12.5
    rng = np.random.default_rng(2)
    quats = np.tile([1.0, 0, 0, 0], (40, 21, 1))
    offsets = KIT.rest_directions * rng.uniform(50, 150, size=(21, 1))  # KIT data is in millimetres
    joints = KIT.forward_kinematics(quats, np.cumsum(rng.normal(size=(40, 3)), axis=0), offsets)
    features = joints_to_features(joints)
    assert features.shape == (39, 251)
    np.testing.assert_allclose(features_to_joints(features), canonical_joints(joints, KIT)[:-1], atol=1e-3)


def test_qrot_matches_axis_angle():
    quat = quat_from_axis_angle(np.array([0.0, 1.0, 0.0]), np.pi / 2)
    np.testing.assert_allclose(qrot(quat, np.array([0.0, 0.0, 1.0])), [1.0, 0.0, 0.0], atol=1e-12)


@pytest.mark.parametrize(
    "args,needle",
    [
        (("motion", "to-joints", "{missing}", "-o", "{out}"), "does not exist"),
        (("motion", "to-joints", "{joints}", "-o", "{out}"), "expected features"),
        (("motion", "to-features", "{features}", "-o", "{out}"), "expected joint positions"),
        (("motion", "to-features", "{nan}", "-o", "{out}"), "NaN"),
        (("motion", "to-features", "{empty}", "-o", "{out}"), "empty"),
        (("motion", "to-features", "{truncated}", "-o", "{out}"), "truncated"),
        (("motion", "to-features", "{text}", "-o", "{out}"), "expected .npy"),
        (("motion", "to-joints", "{features}", "-o", "{bad_out}"), "must end in .npy"),
    ],
)
def test_motion_cli_rejects_bad_input(tmp_path, run_cli, args, needle):
    files = {
        "missing": tmp_path / "missing.npy",
        "joints": tmp_path / "joints.npy",
        "features": tmp_path / "features.npy",
        "nan": tmp_path / "nan.npy",
        "empty": tmp_path / "empty.npy",
        "truncated": tmp_path / "truncated.npy",
        "text": tmp_path / "motion.txt",
        "out": tmp_path / "out.npy",
        "bad_out": tmp_path / "out.gif",
    }
    np.save(files["joints"], np.zeros((50, 22, 3), np.float32))
    np.save(files["features"], np.zeros((50, 263), np.float32))
    nan = np.zeros((50, 22, 3), np.float32)
    nan[3, 4, 1] = np.nan
    np.save(files["nan"], nan)
    files["empty"].write_bytes(b"")
    np.save(files["truncated"], np.ones((50, 22, 3), np.float32))
    files["truncated"].write_bytes(files["truncated"].read_bytes()[:300])
    files["text"].write_text("hello")
    code, out, err = run_cli(*[a.format(**files) for a in args])
    assert code == 2
    assert needle in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not files["out"].exists() and not files["bad_out"].exists()


def test_motion_cli_round_trip(tmp_path, run_cli, humanml3d_dir):
    features_path, joints_path = tmp_path / "f.npy", tmp_path / "j.npy"
    code, out, _ = run_cli("motion", "to-features", humanml3d_dir / "joints" / "000021.npy", "-o", features_path)
    assert code == 0 and np.load(features_path).shape == (179, 263)
    code, _, _ = run_cli("motion", "to-joints", features_path, "-o", joints_path)
    assert code == 0 and np.load(joints_path).shape == (179, 22, 3)


def test_qbetween_handles_opposite_directions():
    from remogpt.motion.quaternion import qbetween

    for v0 in (np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0]), np.array([0.3, -0.2, 0.9])):
        quat = qbetween(v0, -v0)
        assert np.isfinite(quat).all()
        np.testing.assert_allclose(qrot(quat, v0), -v0, atol=1e-12)
