"""The animation rig: HumanML3D's 22-joint tree with the target skeleton's bone lengths and an anatomical rest pose.

HumanML3D's own rest pose (axis-aligned bones, every chain starting at the root) is a convention for IK, not a body:
shoulders would sit below the collars. For animation we use a natural standing pose (bone directions of a real
standing frame, made left/right symmetric, facing +Z, left = +X) with exactly the target bone lengths, so that
`joints_to_features` retargets our poses without changing them. Poses are built hierarchically (a rotation at a
joint turns every bone below it), which is what animation needs.

Rotation conventions used throughout the synth package (angles in radians):
- yaw: about +Y, positive turns left (from +Z towards +X);
- pitch: about +X, positive tilts an upward bone forward (a forward bend, a nod);
- roll: about +Z, positive tilts an upward bone towards -X (the body's right); `lean_left = -roll`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ...motion.skeleton import HUMANML3D

# Joint indices (SMPL body order, docs/humanml3d.md §2).
PELVIS, L_HIP, R_HIP, SPINE1, L_KNEE, R_KNEE, SPINE2, L_ANKLE, R_ANKLE, SPINE3 = range(10)
L_FOOT, R_FOOT, NECK, L_COLLAR, R_COLLAR, HEAD, L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW = range(10, 20)
L_WRIST, R_WRIST = 20, 21
NUM_JOINTS = 22

# Per side (index 0 = left, 1 = right): joints of the leg and arm chains, and the side's sign on the X axis.
SIDES = ("left", "right")
SIDE_SIGN = np.array([1.0, -1.0])
HIP = (L_HIP, R_HIP)
KNEE = (L_KNEE, R_KNEE)
ANKLE = (L_ANKLE, R_ANKLE)
TOE = (L_FOOT, R_FOOT)
COLLAR = (L_COLLAR, R_COLLAR)
SHOULDER = (L_SHOULDER, R_SHOULDER)
ELBOW = (L_ELBOW, R_ELBOW)
WRIST = (L_WRIST, R_WRIST)

# The rest foot points forward and 23 degrees down from the ankle to the toe joint (measured on a standing frame).
FOOT_DOWN_ANGLE = np.deg2rad(23.0)

# Anatomical bone directions of a natural standing pose (joint's bone from its parent), left side +X. Measured on
# frame 0 of HumanML3D's target clip turned to face +Z and made symmetric; legs and arms hang straight.
_STANDING_DIRECTIONS = {
    L_HIP: (0.55, -0.83, -0.07),
    R_HIP: (-0.55, -0.83, -0.07),
    SPINE1: (0.0, 0.95, -0.30),
    L_KNEE: (0.0, -1.0, 0.0),
    R_KNEE: (0.0, -1.0, 0.0),
    SPINE2: (0.0, 0.98, 0.19),
    L_ANKLE: (0.0, -1.0, 0.0),
    R_ANKLE: (0.0, -1.0, 0.0),
    SPINE3: (0.0, 0.997, 0.07),
    L_FOOT: (0.0, -np.sin(FOOT_DOWN_ANGLE), np.cos(FOOT_DOWN_ANGLE)),
    R_FOOT: (0.0, -np.sin(FOOT_DOWN_ANGLE), np.cos(FOOT_DOWN_ANGLE)),
    NECK: (0.0, 0.997, -0.08),
    L_COLLAR: (0.55, 0.835, -0.09),
    R_COLLAR: (-0.55, 0.835, -0.09),
    HEAD: (0.0, 0.707, 0.707),
    L_SHOULDER: (0.98, -0.07, -0.12),
    R_SHOULDER: (-0.98, -0.07, -0.12),
    L_ELBOW: (0.0, -1.0, 0.0),
    R_ELBOW: (0.0, -1.0, 0.0),
    L_WRIST: (0.0, -1.0, 0.0),
    R_WRIST: (0.0, -1.0, 0.0),
}



def rot_y(angle: np.ndarray) -> np.ndarray:
    angle = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(angle), np.zeros_like(angle)
    return np.stack([np.stack([c, zero, s], -1), np.stack([zero, one, zero], -1), np.stack([-s, zero, c], -1)], -2)


def rot_z(angle: np.ndarray) -> np.ndarray:
    angle = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(angle), np.zeros_like(angle)
    return np.stack([np.stack([c, -s, zero], -1), np.stack([s, c, zero], -1), np.stack([zero, zero, one], -1)], -2)


def euler(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """Ry(yaw) Rx(pitch) Rz(roll), shape (..., 3, 3) (written out: it is the hot path of posing)."""
    yaw, pitch, roll = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (yaw, pitch, roll)))
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    out = np.empty(yaw.shape + (3, 3))
    out[..., 0, 0] = cy * cr + sy * sp * sr
    out[..., 0, 1] = -cy * sr + sy * sp * cr
    out[..., 0, 2] = sy * cp
    out[..., 1, 0] = cp * sr
    out[..., 1, 1] = cp * cr
    out[..., 1, 2] = -sp
    out[..., 2, 0] = -sy * cr + cy * sp * sr
    out[..., 2, 1] = sy * sr + cy * sp * cr
    out[..., 2, 2] = cy * cp
    return out


def apply(rotation: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Rotate vectors (..., 3) by matrices (..., 3, 3)."""
    return np.einsum("...ij,...j->...i", rotation, vector)


def heading(yaw: np.ndarray) -> np.ndarray:
    """Unit forward vectors (..., 3) for yaw angles."""
    yaw = np.asarray(yaw, dtype=np.float64)
    return np.stack([np.sin(yaw), np.zeros_like(yaw), np.cos(yaw)], -1)


def lateral(yaw: np.ndarray) -> np.ndarray:
    """Unit vectors (..., 3) pointing to the body's left for yaw angles."""
    yaw = np.asarray(yaw, dtype=np.float64)
    return np.stack([np.cos(yaw), np.zeros_like(yaw), -np.sin(yaw)], -1)


def foot_direction(yaw: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """Ankle -> toe unit vector for a foot yaw and a pitch relative to the flat foot (positive lifts the toe)."""
    angle = np.asarray(pitch, dtype=np.float64) - FOOT_DOWN_ANGLE
    yaw = np.asarray(yaw, dtype=np.float64)
    return np.stack([np.sin(yaw) * np.cos(angle), np.sin(angle), np.cos(yaw) * np.cos(angle)], -1)


@dataclass(frozen=True, eq=False)
class Rig:
    """Bone lengths (target skeleton) and the standing rest offsets derived from them."""

    lengths: np.ndarray  # (22,) bone length of each joint's bone (0 for the root)
    offsets: np.ndarray  # (22, 3) standing rest offsets = length x anatomical direction

    @property
    def parents(self) -> np.ndarray:
        return HUMANML3D.parents

    def thigh(self, side: int) -> float:
        return float(self.lengths[KNEE[side]])

    def shin(self, side: int) -> float:
        return float(self.lengths[ANKLE[side]])

    def foot(self, side: int) -> float:
        return float(self.lengths[TOE[side]])

    def leg(self, side: int) -> float:
        return self.thigh(side) + self.shin(side)

    def upper_arm(self, side: int) -> float:
        return float(self.lengths[ELBOW[side]])

    def forearm(self, side: int) -> float:
        return float(self.lengths[WRIST[side]])

    def ankle_height(self, side: int) -> float:
        """Height of the ankle above the floor when the foot is flat and the toe joint touches the floor."""
        return self.foot(side) * float(np.sin(FOOT_DOWN_ANGLE))

    @property
    def hip_drop(self) -> float:
        """Vertical distance from the pelvis joint down to the hip joints in the rest pose."""
        return float(-(self.offsets[L_HIP, 1] + self.offsets[R_HIP, 1]) / 2)

    def standing_pelvis_height(self, knee_straightness: float = 0.995) -> float:
        """Pelvis height with flat feet under the hips and the legs at `knee_straightness` of their length."""
        legs = [self.ankle_height(s) + knee_straightness * self.leg(s) for s in (0, 1)]
        return float(np.mean(legs)) + self.hip_drop

    @property
    def hip_half_width(self) -> float:
        return float((self.offsets[L_HIP, 0] - self.offsets[R_HIP, 0]) / 2)

    def shoulder_in_thorax(self, side: int) -> np.ndarray:
        """Shoulder joint relative to spine3, in the thorax frame (no shrug)."""
        return self.offsets[COLLAR[side]] + self.offsets[SHOULDER[side]]


@lru_cache(maxsize=1)
def default_rig() -> Rig:
    """The rig with HumanML3D's target bone lengths."""
    lengths = np.linalg.norm(HUMANML3D.target_offsets, axis=-1)
    directions = np.zeros((NUM_JOINTS, 3))
    for joint, direction in _STANDING_DIRECTIONS.items():
        vector = np.asarray(direction, dtype=np.float64)
        directions[joint] = vector / np.linalg.norm(vector)
    offsets = lengths[:, None] * directions
    lengths.setflags(write=False)
    offsets.setflags(write=False)
    return Rig(lengths=lengths, offsets=offsets)


def two_bone_ik(
    root: np.ndarray, target: np.ndarray, upper: float, lower: float, pole: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Middle and end joint (n, 3) of a two-bone chain from `root` towards `target`, bending towards `pole`.

    Exact bone lengths always: a target out of reach is approached along the same line (the end falls short).
    """
    vector = target - root
    distance = np.linalg.norm(vector, axis=-1, keepdims=True)
    unit = vector / np.maximum(distance, 1e-9)
    reach = np.clip(distance, abs(upper - lower) + 1e-4, (upper + lower) * (1.0 - 1e-7))
    cos_a = np.clip((upper**2 + reach**2 - lower**2) / (2.0 * upper * reach), -1.0, 1.0)
    sin_a = np.sqrt(1.0 - cos_a**2)
    bend = pole - (pole * unit).sum(-1, keepdims=True) * unit
    bend_norm = np.linalg.norm(bend, axis=-1, keepdims=True)
    # A pole parallel to the chain gives no bending plane: fall back to any perpendicular.
    fallback = np.cross(unit, np.array([1.0, 0.0, 0.0]))
    bend = np.where(bend_norm > 1e-6, bend / np.maximum(bend_norm, 1e-12), fallback / np.maximum(np.linalg.norm(fallback, axis=-1, keepdims=True), 1e-12))
    middle = root + upper * (cos_a * unit + sin_a * bend)
    end = root + reach * unit
    return middle, end
