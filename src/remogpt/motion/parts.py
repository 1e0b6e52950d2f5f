"""The six body parts of PL-TMR as index sets over the feature vector (`humanml3d.md` §5).

Every feature dimension belongs to exactly one part: each joint brings its ric position, 6D rotation and velocity
dims; the root brings the four root dims and its own velocity; each leg brings its two foot-contact dims.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .features import feature_dim, feature_groups

BODY_PART_NAMES = ("root", "backbone", "left_arm", "right_arm", "left_leg", "right_leg")

# Joints of each part, and which foot-contact pair (0 = left, 1 = right) a leg owns.
_PART_JOINTS = {
    22: {
        "root": (0,), "backbone": (3, 6, 9, 12, 15), "left_arm": (13, 16, 18, 20), "right_arm": (14, 17, 19, 21),
        "left_leg": (1, 4, 7, 10), "right_leg": (2, 5, 8, 11),
    },
    21: {  # KIT-ML (see skeleton.KIT for the sides)
        "root": (0,), "backbone": (1, 2, 3, 4), "left_arm": (8, 9, 10), "right_arm": (5, 6, 7),
        "left_leg": (16, 17, 18, 19, 20), "right_leg": (11, 12, 13, 14, 15),
    },
}
_CONTACTS = {"left_leg": 0, "right_leg": 1}


@lru_cache(maxsize=None)
def _part_dims(num_joints: int) -> tuple[tuple[str, tuple[int, ...]], ...]:
    groups = feature_groups(num_joints)
    ric, rot, vel, contacts = (groups[k].start for k in ("ric", "rotations", "velocities", "foot_contacts"))
    parts = []
    for name in BODY_PART_NAMES:
        dims: list[int] = []
        for joint in _PART_JOINTS[num_joints][name]:
            if joint == 0:
                dims += range(0, 4)
            else:
                dims += range(ric + 3 * (joint - 1), ric + 3 * joint)
                dims += range(rot + 6 * (joint - 1), rot + 6 * joint)
            dims += range(vel + 3 * joint, vel + 3 * joint + 3)
        if name in _CONTACTS:
            dims += range(contacts + 2 * _CONTACTS[name], contacts + 2 * _CONTACTS[name] + 2)
        parts.append((name, tuple(sorted(dims))))
    return tuple(parts)


def body_part_dims(num_joints: int = 22) -> dict[str, np.ndarray]:
    """Part name -> sorted feature indices, in BODY_PART_NAMES order. Together they cover 0..D-1 exactly once."""
    if num_joints not in _PART_JOINTS:
        raise ValueError(f"body parts are defined for 22 (HumanML3D) or 21 (KIT) joints, not {num_joints}")
    return {name: np.array(dims, dtype=np.int64) for name, dims in _part_dims(num_joints)}


def split_parts(features: np.ndarray, num_joints: int | None = None) -> dict[str, np.ndarray]:
    """Slice (..., D) features into the six parts."""
    if num_joints is None:
        num_joints = 22 if features.shape[-1] == feature_dim(22) else 21
    return {name: features[..., dims] for name, dims in body_part_dims(num_joints).items()}
