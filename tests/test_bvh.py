"""BVH export: the tree matches the HumanML3D/SMPL template, the file reproduces the joints when read back (our
reader and bvhio), rotations are continuous, and bad input fails cleanly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from remogpt.errors import UserInputError
from remogpt.motion.features import features_to_joints
from remogpt.motion.quaternion import qmul, quat_from_axis_angle
from remogpt.motion.skeleton import HUMANML3D
from remogpt.render.bvh import FILE_ORDER, JOINT_NAMES, read_bvh, solve_bvh, write_bvh

MM = 1e-3
X, Y, Z = np.eye(3)


def body_motion(frames: int = 60, seed: int = 0) -> np.ndarray:
    """A body-like motion by HumanML3D forward kinematics (constant bone lengths): a turning, walking root, hinge
    knees and elbows that bend one way, and the hips' and chest's children moved rigidly, as SMPL moves them."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / HUMANML3D.fps

    def wave(low: float, high: float) -> np.ndarray:  # a smooth angle sweeping [low, high] radians
        phase = 2 * np.pi * rng.uniform(0.3, 1.2) * t + rng.uniform(0, 2 * np.pi)
        return low + (high - low) * 0.5 * (1 + np.sin(phase))

    def about(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
        return quat_from_axis_angle(np.broadcast_to(axis, (frames, 3)), angle)

    # quats[:, j] turns the bone parent(j) -> j; every chain starts from the root rotation quats[:, 0].
    quats = np.zeros((frames, HUMANML3D.num_joints, 4))
    quats[..., 0] = 1.0
    quats[:, 0] = qmul(about(Y, 0.8 * t), about(X, wave(-0.2, 0.2)))
    for joint in (6, 9, 12, 15):  # spine, neck, head
        quats[:, joint] = qmul(about(X, wave(-0.2, 0.2)), about(Z, wave(-0.15, 0.15)))
    for joint, side in ((4, 1), (5, -1)):  # thighs: flexion, abduction, twist
        swing = qmul(about(X, wave(-1.2, 0.3)), about(Z, side * wave(0, 0.4)))
        quats[:, joint] = qmul(swing, about(Y, wave(-0.4, 0.4)))
    for joint in (7, 8):  # knees
        quats[:, joint] = about(X, wave(0.0, 1.6))
    for joint in (10, 11):  # feet
        quats[:, joint] = about(X, wave(-0.4, 0.4))
    for joint, side in ((18, 1), (19, -1)):  # upper arms: raise sideways and forward, twist
        swing = qmul(about(Z, side * wave(0, 1.4)), about(X, wave(-1.2, 0.4)))
        quats[:, joint] = qmul(swing, about(Y, wave(-0.6, 0.6)))
    for joint in (20, 21):  # elbows
        quats[:, joint] = about(X, wave(-2.0, 0.0))
    quats[:, 2] = quats[:, 3] = quats[:, 1]
    quats[:, 13] = quats[:, 14] = qmul(qmul(qmul(quats[:, 3], quats[:, 6]), quats[:, 9]), quats[:, 12])
    root = np.stack([0.4 * t, 0.9 + 0.03 * np.sin(6 * t), 0.6 * t], axis=1)
    return HUMANML3D.forward_kinematics(quats, root).astype(np.float32)


def read_positions(path, scale: float = 1.0) -> np.ndarray:
    """Joint positions (T, 22, 3) in HumanML3D order, metres, by forward kinematics on the written file."""
    bvh = read_bvh(path)
    order = [bvh.names.index(name) for name in JOINT_NAMES]
    return bvh.positions()[:, order] / scale


def bvhio_positions(path, frames, scale: float = 1.0) -> np.ndarray:
    """The same through the bvhio package (an independent reader), for the given frames."""
    import bvhio

    root = bvhio.readAsHierarchy(str(path))
    layout = {joint.Name: joint for joint, _, _ in root.layout()}
    positions = []
    for frame in frames:
        root.loadPose(frame)
        positions.append([list(layout[name].PositionWorld) for name in JOINT_NAMES])
    return np.array(positions) / scale


def max_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a, np.float64) - b, axis=-1).max())


def test_tree_matches_the_template(shared_data):
    template = read_bvh(shared_data / "bvh" / "humanml3d_22joint_template.bvh")
    ours = solve_bvh(body_motion(4))
    names = tuple(JOINT_NAMES[j] for j in FILE_ORDER)
    assert names == template.names
    parents = tuple(-1 if HUMANML3D.parents[j] < 0 else FILE_ORDER.index(HUMANML3D.parents[j]) for j in FILE_ORDER)
    assert parents == template.parents
    assert ours.local_rotations.shape[1] == len(template.names)


def test_written_channels_match_the_template(shared_data, tmp_path):
    template = read_bvh(shared_data / "bvh" / "humanml3d_22joint_template.bvh")
    write_bvh(body_motion(4), tmp_path / "m.bvh")
    written = read_bvh(tmp_path / "m.bvh")
    assert written.names == template.names and written.parents == template.parents
    assert written.channels == template.channels  # root XYZ position + ZYX rotation, ZYX rotation elsewhere
    assert written.motion.shape == (4, 3 + 3 * len(template.names))
    assert written.frame_time == pytest.approx(1 / 20)


def test_reader_agrees_with_bvhio_on_the_template(shared_data):
    """Our reader's conventions (channels replace the root OFFSET, intrinsic Euler order) are bvhio's."""
    path = shared_data / "bvh" / "humanml3d_22joint_template.bvh"
    frames = [0, 333, 719]
    assert max_error(read_positions(path)[frames], bvhio_positions(path, frames)) < 1e-5


def test_real_clip_round_trip_within_a_millimetre(humanml3d_dir, tmp_path):
    joints = np.load(humanml3d_dir / "new_joints" / "012314.npy")
    report = write_bvh(joints, tmp_path / "clip.bvh")
    error = max_error(read_positions(tmp_path / "clip.bvh"), joints)
    print(f"real clip 012314: max round-trip error {error / MM:.4f} mm (solver {report.max_error_m / MM:.4f} mm)")
    assert error < 0.01 * MM and report.max_error_m < 0.01 * MM
    frames = list(range(0, len(joints), 17))
    assert max_error(bvhio_positions(tmp_path / "clip.bvh", frames), joints[frames]) < 0.01 * MM


def test_features_and_centimetres(humanml3d_dir, tmp_path):
    features = np.load(humanml3d_dir / "new_joint_vecs" / "012314.npy")
    write_bvh(features, tmp_path / "clip.bvh", units="cm", fps=30)
    bvh = read_bvh(tmp_path / "clip.bvh")
    assert bvh.frame_time == pytest.approx(1 / 30)
    assert bvh.motion[0, 1] == pytest.approx(100 * features_to_joints(features)[0, 0, 1], abs=1e-5)
    assert max_error(read_positions(tmp_path / "clip.bvh", scale=100), features_to_joints(features)) < 0.01 * MM
    frames = [0, 99]
    assert max_error(bvhio_positions(tmp_path / "clip.bvh", frames, 100), features_to_joints(features)[frames]) < MM


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_forward_kinematics_motion_round_trip_and_smooth_rotations(seed, tmp_path):
    joints = body_motion(80, seed)
    write_bvh(joints, tmp_path / "fk.bvh")
    assert max_error(read_positions(tmp_path / "fk.bvh"), joints) < 0.01 * MM
    # No twist flips: a local rotation turns by no more per frame than the bones themselves do.
    local = solve_bvh(joints).local_rotations
    step = Rotation.from_matrix((np.swapaxes(local[:-1], -1, -2) @ local[1:]).reshape(-1, 3, 3)).magnitude()
    bones = joints[:, 1:] - joints[:, HUMANML3D.parents[1:]]
    bones /= np.linalg.norm(bones, axis=-1, keepdims=True)
    bone_step = np.arccos(np.clip((bones[1:] * bones[:-1]).sum(-1), -1, 1))
    assert step.max() < 1.0 * bone_step.max(), (np.degrees(step.max()), np.degrees(bone_step.max()))


def test_noisy_motion_error_is_reported_and_bounded(humanml3d_dir, tmp_path):
    """Generated motions' bone lengths vary a little; the file keeps the mean lengths, so the error is about the
    length deviation, reported by write_bvh and matching what a reader sees."""
    joints = np.load(humanml3d_dir / "new_joints" / "012314.npy").astype(np.float64)
    sigma = 5 * MM
    noisy = joints + np.random.default_rng(0).normal(0.0, sigma, joints.shape)
    report = write_bvh(noisy, tmp_path / "noisy.bvh")
    error = np.linalg.norm(read_positions(tmp_path / "noisy.bvh") - noisy, axis=-1)
    noise = np.linalg.norm(noisy - joints, axis=-1).mean()
    lengths = np.linalg.norm(noisy[:, 1:] - noisy[:, HUMANML3D.parents[1:]], axis=-1)
    length_deviation = np.abs(lengths - lengths.mean(axis=0)).max()
    print(
        f"noise sigma {sigma / MM:.0f} mm (mean displacement {noise / MM:.1f} mm, bone lengths up to "
        f"{length_deviation / MM:.1f} mm off): round-trip error mean {error.mean() / MM:.2f} mm, "
        f"max {error.max() / MM:.2f} mm"
    )
    assert report.mean_error_m == pytest.approx(error.mean(), abs=0.01 * MM)
    assert report.max_error_m == pytest.approx(error.max(), abs=0.01 * MM)
    assert error.mean() < noise  # the export adds less error than the noise itself
    assert error.max() < 2 * length_deviation


def test_rest_pose_is_an_upright_t_pose_facing_z(tmp_path):
    write_bvh(body_motion(4), tmp_path / "m.bvh")
    bvh = read_bvh(tmp_path / "m.bvh")
    rest = np.zeros_like(bvh.offsets)
    for joint, parent in enumerate(bvh.parents):
        rest[joint] = bvh.offsets[joint] + (rest[parent] if parent >= 0 else 0)
    at = {name: rest[i] for i, name in enumerate(bvh.names)}
    assert at["Head"][1] > at["Neck"][1] > at["Spine"][1] > at["Hips"][1] > at["LeftLeg"][1] > at["LeftFoot"][1]
    assert at["LeftHand"][0] > at["LeftArm"][0] > 0 > at["RightArm"][0] > at["RightHand"][0]
    assert abs(at["LeftHand"][1] - at["LeftArm"][1]) < 1e-6  # arms horizontal
    assert at["LeftToe"][2] > at["LeftFoot"][2] and at["LeftUpLeg"][0] > 0  # feet forward (+Z), left at +X


@pytest.mark.parametrize(
    "motion, options, message",
    [
        (np.zeros((10, 21, 3)), {}, "zero-length"),  # KIT joints: placed on the SMPL tree, then checked
        (np.zeros((10, 5)), {}, "shape"),
        (np.full((10, 22, 3), np.nan), {}, "NaN"),
        (np.zeros((10, 22, 3)), {}, "zero-length"),
        (None, {"units": "inch"}, "units"),
        (None, {"fps": 0}, "fps"),
        (None, {"fps": float("nan")}, "fps"),
    ],
)
def test_bad_input_raises_and_writes_nothing(motion, options, message, tmp_path):
    motion = body_motion(4) if motion is None else motion
    with pytest.raises(UserInputError, match=message):
        write_bvh(motion, tmp_path / "out.bvh", **options)
    assert list(tmp_path.iterdir()) == []


def test_output_must_be_bvh(tmp_path):
    with pytest.raises(UserInputError, match=".bvh"):
        write_bvh(body_motion(4), tmp_path / "out.txt")
    assert list(tmp_path.iterdir()) == []


def test_reader_rejects_a_broken_file(tmp_path):
    path = tmp_path / "broken.bvh"
    path.write_text("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 3 Xposition Yposition Zposition\n}\nMOTION\n"
                    "Frames: 2\nFrame Time: 0.05\n0 0 0\n")
    with pytest.raises(UserInputError, match="inconsistent"):
        read_bvh(path)


def test_cli_export_bvh(run_cli, tmp_path):
    np.save(tmp_path / "walk.npy", body_motion(30))
    code, out, err = run_cli("export", "bvh", tmp_path / "walk.npy", "-o", tmp_path / "walk.bvh", "--units", "cm")
    assert code == 0, err
    assert "30 frames" in out and "error" in out
    assert max_error(read_positions(tmp_path / "walk.bvh", scale=100), body_motion(30)) < 0.01 * MM

    for args, message in [
        (("--units", "ft"), "units"),
        (("--fps", "-5"), "fps"),
        (("-o", tmp_path / "walk.txt"), ".bvh"),
    ]:
        output = ("-o", tmp_path / "bad.bvh") if args[0] != "-o" else ()
        code, out, err = run_cli("export", "bvh", tmp_path / "walk.npy", *output, *args)
        assert code == 2 and message in err and err.startswith("Error:")
    np.save(tmp_path / "flat.npy", np.zeros((5, 7)))
    code, _, err = run_cli("export", "bvh", tmp_path / "flat.npy", "-o", tmp_path / "bad.bvh")
    assert code == 2 and "shape" in err
    assert not (tmp_path / "bad.bvh").exists() and not (tmp_path / "walk.txt").exists()
