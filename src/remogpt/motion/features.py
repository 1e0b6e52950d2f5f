"""HumanML3D's feature extraction and its inverse, as a reversible pair.

`joints_to_features` reproduces `process_file` of the released HumanML3D pipeline (motion_representation.ipynb):
retarget to the target skeleton, floor, origin, face +Z, foot contacts, IK, then the 263-d vector
(`humanml3d.md` §3-4). `features_to_joints` reproduces `recover_from_ric` (§6), the function every tool in the
field visualises and evaluates through.

Known properties of the released pipeline, kept on purpose so our features match the released ones:
- the facing used inside IK swaps the hip indices (see Skeleton.facing_directions) and is Gaussian-smoothed;
- decoding applies the yaw of frame 0 as identity, so decoded joints equal the canonicalised joints rotated about
  Y by the smoothed IK facing of frame 0 (a small angle; `canonical_joints` exposes that rotation's inputs);
- velocities consume a frame: T joint frames give T - 1 feature frames.

One defect of the released pipeline is corrected by default (`fix_yaw_flip=True`): when a clip's facing passes
through 180 degrees, the per-frame root quaternions jump to the opposite hemisphere, their relative rotation gets a
negative w, and arcsin of its y part has the wrong sign for that one frame, so every later frame decodes rotated by
twice that step (HumanML3D clip 000021 drifts by 18 cm). We take the relative rotation with w >= 0 (the same
rotation). Only dim 0 on such frames differs from released features; `fix_yaw_flip=False` reproduces them bit for
bit in behaviour.
The released code computes in float32 (torch); we compute in float64 and return float32.
"""

from __future__ import annotations

import numpy as np

from ..errors import UserInputError
from .quaternion import qbetween, qinv, qmul, qrot, quat_to_cont6d
from .skeleton import HUMANML3D, KIT, Skeleton, skeleton_for

SMPLH_JOINTS = 52  # raw AMASS/SMPL-H joint files: the first 22 are the body


def feature_dim(num_joints: int) -> int:
    """4 + 3(J-1) + 6(J-1) + 3J + 4: 263 for HumanML3D, 251 for KIT."""
    return 4 + 3 * (num_joints - 1) + 6 * (num_joints - 1) + 3 * num_joints + 4


def num_joints_for_dim(dim: int) -> int:
    for skeleton in (HUMANML3D, KIT):
        if feature_dim(skeleton.num_joints) == dim:
            return skeleton.num_joints
    raise UserInputError(f"feature dimension {dim} is not HumanML3D's 263 or KIT's 251.")


def feature_groups(num_joints: int = 22) -> dict[str, slice]:
    """The seven groups of the feature vector, in order (HumanML3D's Std is constant inside each)."""
    ric_end = 4 + 3 * (num_joints - 1)
    rot_end = ric_end + 6 * (num_joints - 1)
    vel_end = rot_end + 3 * num_joints
    return {
        "root_rot_velocity": slice(0, 1),
        "root_linear_velocity": slice(1, 3),
        "root_height": slice(3, 4),
        "ric": slice(4, ric_end),
        "rotations": slice(ric_end, rot_end),
        "velocities": slice(rot_end, vel_end),
        "foot_contacts": slice(vel_end, vel_end + 4),
    }


def is_feature_array(array: np.ndarray) -> bool:
    return array.ndim == 2 and array.shape[1] in (feature_dim(22), feature_dim(21))


def motion_to_features(array: np.ndarray, *, where: str = "motion", feature_dim: int | None = None) -> np.ndarray:
    """The one input path for a user's motion: (T, 263|251) features as they are, joint positions (any layout
    `as_joints` takes) through HumanML3D's feature extraction; float32, and `feature_dim` checked when given."""
    features = as_features(array, where) if is_feature_array(np.asarray(array)) else joints_to_features(as_joints(array, where))
    if feature_dim is not None and features.shape[1] != feature_dim:
        from ..errors import UserInputError

        raise UserInputError(f"{where} gives {features.shape[1]}-d features; the model expects {feature_dim}.")
    return features.astype(np.float32, copy=False)


def as_joints(array: np.ndarray, where: str = "joints") -> np.ndarray:
    """Validate joint positions: (T, 22|21, 3), (T, 52, 3) raw SMPL-H (first 22 kept) or flat (T, 66|63)."""
    array = np.asarray(array)
    if array.ndim == 2 and array.shape[1] in (66, 63):
        array = array.reshape(len(array), -1, 3)
    if array.ndim != 3 or array.shape[2] != 3 or array.shape[1] not in (21, 22, SMPLH_JOINTS):
        raise UserInputError(
            f"{where} has shape {array.shape}, expected joint positions (T, 22, 3), (T, 52, 3) or KIT (T, 21, 3)."
        )
    if array.shape[1] == SMPLH_JOINTS:
        array = array[:, :22]
    if len(array) < 2:
        raise UserInputError(f"{where} has {len(array)} frame(s); at least 2 are needed (velocities use a frame).")
    _check_finite(array, where)
    return array


def as_features(array: np.ndarray, where: str = "features") -> np.ndarray:
    """Validate a feature array (T, 263) or (T, 251)."""
    array = np.asarray(array)
    if not is_feature_array(array):
        raise UserInputError(f"{where} has shape {array.shape}, expected features (T, 263) or KIT (T, 251).")
    if len(array) < 1:
        raise UserInputError(f"{where} has no frames.")
    _check_finite(array, where)
    return array


def _check_finite(array: np.ndarray, where: str) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        raise UserInputError(f"{where} contains NaN or infinite values (first at frame {int(np.argwhere(bad)[0][0])}).")


def motion_to_joints(array: np.ndarray, where: str = "motion") -> np.ndarray:
    """Joints (T, J, 3) from either a feature array or a joint array."""
    array = np.asarray(array)
    if is_feature_array(array):
        return features_to_joints(array, where=where)
    return as_joints(array, where).astype(np.float32)


def retarget(joints: np.ndarray, skeleton: Skeleton = HUMANML3D, target_offsets: np.ndarray | None = None) -> np.ndarray:
    """HumanML3D's uniform_skeleton: IK on the source, FK with the target bone lengths, root path scaled by leg ratio."""
    target = skeleton.target_offsets if target_offsets is None else target_offsets
    source = skeleton.offsets_from_pose(joints[0])
    knee, ankle = skeleton.lower_leg
    source_leg = np.abs(source[knee]).max() + np.abs(source[ankle]).max()
    target_leg = np.abs(target[knee]).max() + np.abs(target[ankle]).max()
    root = joints[:, 0] * (target_leg / source_leg)
    quats = skeleton.inverse_kinematics(joints, smooth_forward=False)
    return skeleton.forward_kinematics(quats, root, target)


def canonical_joints(joints: np.ndarray, skeleton: Skeleton = HUMANML3D, *, retarget_skeleton: bool = True) -> np.ndarray:
    """Steps 1-3 of process_file: retarget, floor at y = 0, frame-0 root XZ at the origin, frame 0 facing +Z."""
    positions = np.asarray(joints, dtype=np.float64)
    if retarget_skeleton and skeleton.target_offsets is not None:
        positions = retarget(positions, skeleton)
    positions = positions.copy()
    positions[:, :, 1] -= positions.min(axis=0).min(axis=0)[1]
    positions = positions - positions[0, 0] * np.array([1.0, 0.0, 1.0])
    r_hip, l_hip, r_shoulder, l_shoulder = skeleton.face_joints
    first = positions[0]
    across = (first[r_hip] - first[l_hip]) + (first[r_shoulder] - first[l_shoulder])
    across = across / np.sqrt((across**2).sum())
    forward = np.cross(np.array([0.0, 1.0, 0.0]), across)
    forward = forward / np.sqrt((forward**2).sum())
    facing = qbetween(forward, np.array([0.0, 0.0, 1.0]))
    return qrot(np.broadcast_to(facing, positions.shape[:-1] + (4,)), positions)


def foot_contacts(positions: np.ndarray, skeleton: Skeleton = HUMANML3D) -> tuple[np.ndarray, np.ndarray]:
    """1 where the squared displacement of the ankle/toe to the next frame is below the threshold; (T-1, 2) each."""
    def contact(indices: tuple[int, int]) -> np.ndarray:
        step = positions[1:, list(indices)] - positions[:-1, list(indices)]
        return ((step**2).sum(-1) < skeleton.foot_threshold).astype(np.float64)

    return contact(skeleton.feet_left), contact(skeleton.feet_right)


def joints_to_features(
    joints: np.ndarray,
    skeleton: Skeleton | None = None,
    *,
    retarget_skeleton: bool = True,
    fix_yaw_flip: bool = True,
) -> np.ndarray:
    """(T, J, 3) joint positions -> (T-1, 263|251) float32 features, exactly as HumanML3D's process_file.

    Accepts (T, 52, 3) raw SMPL-H joints (first 22 kept). KIT has no shipped target skeleton, so KIT clips keep
    their own bone lengths.
    """
    joints = as_joints(joints)
    skeleton = skeleton or skeleton_for(joints.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):  # degenerate poses give NaN, refused below in one sentence
        features = _features(joints, skeleton, retarget_skeleton, fix_yaw_flip)
    if not np.isfinite(features).all():  # e.g. all joints at one point: no bone has a direction to solve for
        from ..errors import UserInputError

        raise UserInputError(
            "these joints do not form a body (zero-length bones or degenerate poses), so no features can be computed."
        )
    return features.astype(np.float32)


def _features(joints: np.ndarray, skeleton: Skeleton, retarget_skeleton: bool, fix_yaw_flip: bool) -> np.ndarray:
    global_positions = canonical_joints(joints, skeleton, retarget_skeleton=retarget_skeleton)
    feet_l, feet_r = foot_contacts(global_positions, skeleton)

    quats = skeleton.inverse_kinematics(global_positions, smooth_forward=True)
    cont6d = quat_to_cont6d(quats)
    root_rot = quats[:, 0]
    root_velocity = qrot(root_rot[1:], global_positions[1:, 0] - global_positions[:-1, 0])
    root_rot_velocity = qmul(root_rot[1:], qinv(root_rot[:-1]))
    if fix_yaw_flip:
        root_rot_velocity = np.where(root_rot_velocity[:, :1] < 0, -root_rot_velocity, root_rot_velocity)

    # "rifke": positions relative to the root in XZ, rotated so the root faces +Z.
    local = global_positions.copy()
    local[..., 0] -= local[:, 0:1, 0]
    local[..., 2] -= local[:, 0:1, 2]
    local = qrot(np.repeat(root_rot[:, None], local.shape[1], axis=1), local)

    frames = len(global_positions) - 1
    root_data = np.concatenate(
        [np.arcsin(root_rot_velocity[:, 2:3]), root_velocity[:, [0, 2]], local[:-1, 0, 1:2]], axis=-1
    )
    ric = local[:-1, 1:].reshape(frames, -1)
    rotations = cont6d[:-1, 1:].reshape(frames, -1)
    velocities = qrot(
        np.repeat(root_rot[:-1, None], global_positions.shape[1], axis=1), global_positions[1:] - global_positions[:-1]
    ).reshape(frames, -1)
    return np.concatenate([root_data, ric, rotations, velocities, feet_l, feet_r], axis=-1)


def recover_root(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Root yaw quaternions (T, 4) and root positions (T, 3) from the first four feature dims."""
    yaw = np.zeros(len(features))
    yaw[1:] = np.cumsum(features[:-1, 0])
    quats = np.zeros((len(features), 4))
    quats[:, 0] = np.cos(yaw)
    quats[:, 2] = np.sin(yaw)
    steps = np.zeros((len(features), 3))
    steps[1:, [0, 2]] = features[:-1, 1:3]
    position = np.cumsum(qrot(qinv(quats), steps), axis=0)
    position[:, 1] = features[:, 3]
    return quats, position


def features_to_joints(features: np.ndarray, where: str = "features") -> np.ndarray:
    """(T, 263|251) features -> (T, J, 3) float32 joints: HumanML3D's recover_from_ric."""
    features = as_features(features, where).astype(np.float64)
    num_joints = num_joints_for_dim(features.shape[1])
    quats, root = recover_root(features)
    ric = features[:, 4 : 4 + 3 * (num_joints - 1)].reshape(len(features), num_joints - 1, 3)
    joints = qrot(np.repeat(qinv(quats)[:, None], num_joints - 1, axis=1), ric)
    joints[..., 0] += root[:, None, 0]
    joints[..., 2] += root[:, None, 2]
    return np.concatenate([root[:, None], joints], axis=1).astype(np.float32)
