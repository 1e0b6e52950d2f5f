"""Skeletons of HumanML3D (22 joints, SMPL body order) and KIT-ML (21 joints), with HumanML3D's FK and IK.

Conventions follow HumanML3D's common/skeleton.py exactly, because released features depend on them:
- quats[:, j] is the local rotation of the bone parent(j) -> j, and every kinematic chain starts from the root
  rotation quats[:, 0] (the arm chains do not inherit the spine's rotations);
- offsets are bone length x rest direction; identity rotations give the rest pose (standing, facing +Z, arms down).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .quaternion import qbetween, qinv, qmul, qrot


@dataclass(frozen=True, eq=False)
class Skeleton:
    name: str
    joint_names: tuple[str, ...]
    chains: tuple[tuple[int, ...], ...]
    rest_directions: np.ndarray  # (J, 3) unit vectors of each joint's bone in the rest pose
    face_joints: tuple[int, int, int, int]  # (r_hip, l_hip, r_shoulder, l_shoulder) as in process_file
    feet_left: tuple[int, int]  # (ankle, toe)
    feet_right: tuple[int, int]
    lower_leg: tuple[int, int]  # (knee, ankle) whose bone lengths give the leg-length ratio for retargeting
    left_joints: tuple[int, ...]  # mirror pairs: left_joints[i] <-> right_joints[i]
    right_joints: tuple[int, ...]
    foot_threshold: float  # squared displacement per frame below which a foot is in contact
    fps: float
    target_offsets: np.ndarray | None  # (J, 3) target skeleton (bone length x rest direction), None if unknown
    parents: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        parents = np.full(len(self.joint_names), -1, dtype=np.int64)
        for chain in self.chains:
            for parent, child in zip(chain[:-1], chain[1:]):
                parents[child] = parent
        object.__setattr__(self, "parents", parents)

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    def offsets_from_pose(self, pose: np.ndarray) -> np.ndarray:
        """Bone length x rest direction for every joint, measured on one pose (J, 3)."""
        pose = np.asarray(pose, dtype=np.float64)
        lengths = np.zeros(self.num_joints)
        child = np.arange(1, self.num_joints)
        lengths[1:] = np.linalg.norm(pose[child] - pose[self.parents[child]], axis=-1)
        return lengths[:, None] * self.rest_directions

    def forward_kinematics(self, quats: np.ndarray, root_pos: np.ndarray, offsets: np.ndarray | None = None) -> np.ndarray:
        """Joint positions (T, J, 3) from local rotations (T, J, 4) and root positions (T, 3)."""
        if offsets is None:
            if self.target_offsets is None:
                raise ValueError(f"the {self.name} skeleton has no target offsets; pass offsets explicitly")
            offsets = self.target_offsets
        offsets = np.broadcast_to(offsets, quats.shape[:-1] + (3,))
        joints = np.zeros(quats.shape[:-1] + (3,))
        joints[:, 0] = root_pos
        for chain in self.chains:
            rotation = quats[:, 0]
            for parent, child in zip(chain[:-1], chain[1:]):
                rotation = qmul(rotation, quats[:, child])
                joints[:, child] = qrot(rotation, offsets[:, child]) + joints[:, parent]
        return joints

    def facing_directions(self, joints: np.ndarray, smooth_sigma: float = 0.0) -> np.ndarray:
        """Per-frame forward direction (T, 3) as computed inside HumanML3D's IK.

        Quirk kept for compatibility: the released IK unpacks the face joints as (l_hip, r_hip, ...) although they are
        stored as (r_hip, l_hip, ...), so the hip term points the opposite way to the shoulder term. Released
        features carry this; it only changes the facing estimate slightly (the shoulders dominate).
        """
        l_hip, r_hip, r_shoulder, l_shoulder = self.face_joints  # sic: swapped hips, as released
        across = (joints[:, r_hip] - joints[:, l_hip]) + (joints[:, r_shoulder] - joints[:, l_shoulder])
        across = across / np.sqrt((across**2).sum(-1))[:, None]
        forward = np.cross(np.array([[0.0, 1.0, 0.0]]), across, axis=-1)
        if smooth_sigma > 0:
            forward = gaussian_filter1d(forward, smooth_sigma, axis=0, mode="nearest")
        return forward / np.sqrt((forward**2).sum(-1))[:, None]

    def inverse_kinematics(self, joints: np.ndarray, smooth_forward: bool = False) -> np.ndarray:
        """Local rotations (T, J, 4) that reproduce the bone directions of `joints` (T, J, 3) under this skeleton's FK.

        The root rotation turns the (optionally Gaussian-smoothed, sigma 20 frames) facing direction to +Z, except
        on frame 0, where it is the identity (as released).
        """
        joints = np.asarray(joints, dtype=np.float64)
        forward = self.facing_directions(joints, smooth_sigma=20.0 if smooth_forward else 0.0)
        root_quat = qbetween(forward, np.broadcast_to(np.array([0.0, 0.0, 1.0]), forward.shape))
        # Quirk kept for compatibility: the released IK sets frame 0's root rotation to identity (the clip was already
        # turned to face +Z), which is what lets recover_from_ric start from zero yaw.
        root_quat[0] = (1.0, 0.0, 0.0, 0.0)
        quats = np.zeros(joints.shape[:-1] + (4,))
        quats[..., 0] = 1.0
        quats[:, 0] = root_quat
        # Swing of every bone from its rest direction, all bones at once; only the chain products are sequential.
        bones = joints[:, 1:] - joints[:, self.parents[1:]]
        bones = bones / np.sqrt((bones**2).sum(-1))[..., None]
        swings = np.zeros_like(quats)
        swings[:, 1:] = qbetween(np.broadcast_to(self.rest_directions[1:], bones.shape), bones)
        for chain in self.chains:
            rotation = root_quat
            for child in chain[1:]:
                local = qmul(qinv(rotation), swings[:, child])
                quats[:, child] = local
                rotation = qmul(rotation, local)
        return quats


HUMANML3D_JOINT_NAMES = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle", "right_ankle",
    "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)
_HUMANML3D_REST = np.array(
    [[0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, -1, 0], [0, 1, 0], [0, -1, 0], [0, -1, 0],
     [0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 1, 0], [1, 0, 0], [-1, 0, 0], [0, 0, 1], [0, -1, 0], [0, -1, 0],
     [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0]],
    dtype=np.float64,
)
# Bone lengths (m) of HumanML3D's target skeleton: frame 0 of clip 000021 (first 22 joints), as its pipeline measures
# them. Derived numbers only; tests check them against the clip itself.
_HUMANML3D_BONE_LENGTHS = np.array([
    0.0, 0.10307393575260745, 0.10988341731359684, 0.13156824130931077, 0.3936232668624135, 0.390188114541695,
    0.14319021331683535, 0.43243308784436374, 0.42564352546036327, 0.057364735143330216, 0.14338185326794975,
    0.14941903134348114, 0.21936005376632126, 0.13748673607616194, 0.1433828654655169, 0.10303921946937832,
    0.13161404204261845, 0.1229844377158008, 0.25683988652070733, 0.263091726718483, 0.26601196057534227,
    0.26987646323572506,
])

HUMANML3D = Skeleton(
    name="humanml3d",
    joint_names=HUMANML3D_JOINT_NAMES,
    chains=((0, 2, 5, 8, 11), (0, 1, 4, 7, 10), (0, 3, 6, 9, 12, 15), (9, 14, 17, 19, 21), (9, 13, 16, 18, 20)),
    rest_directions=_HUMANML3D_REST,
    face_joints=(2, 1, 17, 16),
    feet_left=(7, 10),
    feet_right=(8, 11),
    lower_leg=(5, 8),
    left_joints=(1, 4, 7, 10, 13, 16, 18, 20),
    right_joints=(2, 5, 8, 11, 14, 17, 19, 21),
    foot_threshold=0.002,
    fps=20.0,
    target_offsets=_HUMANML3D_BONE_LENGTHS[:, None] * _HUMANML3D_REST,
)

KIT_JOINT_NAMES = (
    "root", "bp", "bt", "bln", "bun", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
    "left_wrist", "right_hip", "right_knee", "right_ankle", "right_mt", "right_toe", "left_hip", "left_knee",
    "left_ankle", "left_mt", "left_toe",
)
_KIT_REST = np.array(
    [[0, 0, 0], [0, 1, 0], [0, 1, 0], [0, 1, 0], [0, 1, 0], [1, 0, 0], [0, -1, 0], [0, -1, 0], [-1, 0, 0],
     [0, -1, 0], [0, -1, 0], [1, 0, 0], [0, -1, 0], [0, -1, 0], [0, 0, 1], [0, 0, 1], [-1, 0, 0], [0, -1, 0],
     [0, -1, 0], [0, 0, 1], [0, 0, 1]],
    dtype=np.float64,
)

# KIT-ML: the target skeleton (clip 03950) is not available to us, so target_offsets is None and KIT features are
# computed on the clip's own bone lengths unless the caller passes a reference pose (see features.joints_to_features).
# Sides follow HumanML3D's KIT settings: face_joint_indx [11, 16, 5, 8] = (r_hip, l_hip, r_shoulder, l_shoulder),
# feet fid_r [14, 15], fid_l [19, 20]; KIT's coordinates put the right side at +x.
KIT = Skeleton(
    name="kit",
    joint_names=KIT_JOINT_NAMES,
    chains=((0, 11, 12, 13, 14, 15), (0, 16, 17, 18, 19, 20), (0, 1, 2, 3, 4), (3, 5, 6, 7), (3, 8, 9, 10)),
    rest_directions=_KIT_REST,
    face_joints=(11, 16, 5, 8),
    feet_left=(19, 20),
    feet_right=(14, 15),
    lower_leg=(17, 18),
    left_joints=(8, 9, 10, 16, 17, 18, 19, 20),
    right_joints=(5, 6, 7, 11, 12, 13, 14, 15),
    foot_threshold=0.05,
    fps=12.5,
    target_offsets=None,
)


def skeleton_for(num_joints: int) -> Skeleton:
    """The skeleton with this many joints (22 HumanML3D, 21 KIT)."""
    for skeleton in (HUMANML3D, KIT):
        if skeleton.num_joints == num_joints:
            return skeleton
    raise ValueError(f"no skeleton with {num_joints} joints (expected 22 for HumanML3D or 21 for KIT)")
