"""Between the 22-joint SMPL skeleton (HumanML3D, metres) and KIT-ML's 21-joint MMM skeleton (KIT units).

Both are right-handed with y up: a person facing +z has the right side at -x. (HumanML3D's kit_raw_offsets put
the right limbs' rest directions at +x, but its features of the released KIT clips say otherwise: with its face
joints (right hip, left hip, right shoulder, left shoulder) the mean forward root velocity in kit_mean.npy is
+16.6 units per frame, which only a right side at -x gives. Negating x here gave -18.2.)

Used in both directions: the built-in dataset retargeted to KIT (`remogpt data synth --skeleton kit`) and KIT
motions exported on the SMPL tree (BVH). The joints match by anatomy; what KIT has and SMPL lacks (the toe tip) and
the reverse (collar bones, three spine joints) are placed along their neighbours.

Units: KIT-ML's released joints are not in metres. The leg of its target skeleton (clip 03950) measures 437 units
from hip to ankle (hip, knee and ankle heights 559.6, 341.3 and 124.1 in the released KIT evaluator statistics,
kit_mean.npy), so KIT_UNITS_PER_METRE sizes our rig's leg (0.83 m hip to ankle) to match: features of the same
magnitudes as the released data's Mean/Std.
"""

from __future__ import annotations

import numpy as np

KIT_UNITS_PER_METRE = 530.0
TOE_REACH = 0.5  # the KIT toe tip lies this fraction of the ankle->ball distance beyond the ball, at the ball's height

# KIT joint -> the SMPL joint it sits at (None: placed by hand below)
_FROM_SMPL = (
    0,  # root <- pelvis
    None,  # bp (lower back): between spine1 and spine2
    9,  # bt (thorax) <- spine3
    12,  # bln (lower neck) <- neck
    15,  # bun (upper neck / head) <- head
    17, 19, 21,  # right shoulder, elbow, wrist
    16, 18, 20,  # left shoulder, elbow, wrist
    2, 5, 8, 11, None,  # right hip, knee, ankle, ball (mt) <- foot, toe tip
    1, 4, 7, 10, None,  # left hip, knee, ankle, ball, toe tip
)  # fmt: skip


def units_per_metre(skeleton) -> float:
    """Length units per metre of a skeleton's joint positions (KIT's are not metres)."""
    return KIT_UNITS_PER_METRE if skeleton.name == "kit" else 1.0


def smpl_to_kit(joints: np.ndarray) -> np.ndarray:
    """(T, 22, 3) SMPL joints in metres -> (T, 21, 3) KIT joints in KIT units."""
    joints = np.asarray(joints, dtype=np.float64)
    kit = np.zeros(joints.shape[:-2] + (21, 3))
    for k, s in enumerate(_FROM_SMPL):
        if s is not None:
            kit[..., k, :] = joints[..., s, :]
    kit[..., 1, :] = (joints[..., 3, :] + joints[..., 6, :]) / 2
    for toe, ball, ankle in ((15, 11, 8), (20, 10, 7)):
        reach = joints[..., ball, :] - joints[..., ankle, :]
        reach[..., 1] = 0.0  # along the ground
        kit[..., toe, :] = joints[..., ball, :] + TOE_REACH * reach
    return kit * KIT_UNITS_PER_METRE


def kit_to_smpl(joints: np.ndarray) -> np.ndarray:
    """(T, 21, 3) KIT joints in KIT units -> (T, 22, 3) SMPL joints in metres (for tools made for the SMPL tree)."""
    kit = np.asarray(joints, dtype=np.float64) / KIT_UNITS_PER_METRE
    smpl = np.zeros(kit.shape[:-2] + (22, 3))
    for k, s in enumerate(_FROM_SMPL):
        if s is not None:
            smpl[..., s, :] = kit[..., k, :]
    root, back, thorax = kit[..., 0, :], kit[..., 1, :], kit[..., 2, :]
    smpl[..., 3, :] = root + 0.5 * (back - root)  # spine1, spine2: below and above the lower back
    smpl[..., 6, :] = back + 0.5 * (thorax - back)
    for collar, shoulder in ((13, 16), (14, 17)):  # collars halfway from the neck to the shoulders
        smpl[..., collar, :] = (smpl[..., 12, :] + smpl[..., shoulder, :]) / 2
    return smpl
