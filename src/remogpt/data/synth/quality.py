"""Physical plausibility measures of joint motions (any source: ours, real data, generated).

- foot skating: mean horizontal speed (m/s) of a toe joint over the frames where it is in contact with the floor,
  contact meaning its height above the clip's floor is under 5 cm (the usual definition in motion generation work);
- ground penetration: how far the lowest joint of the clip is below the level the feet stand on (the 5th
  percentile over frames of the lower toe's height), in metres; 0 when the feet are the lowest thing;
- bone length error: largest deviation (m) of any bone from the target skeleton.
"""

from __future__ import annotations

import numpy as np

from ...motion.skeleton import HUMANML3D

TOES = (10, 11)
CONTACT_HEIGHT = 0.05


def floor_height(joints: np.ndarray) -> float:
    return float(joints[..., 1].min())


def skating(joints: np.ndarray, fps: float = 20.0, contact_height: float = CONTACT_HEIGHT) -> tuple[float, int]:
    """(sum of toe horizontal speeds over contact frames, number of contact frames): pool over clips, then divide."""
    joints = np.asarray(joints, dtype=np.float64)
    floor = floor_height(joints)
    total, count = 0.0, 0
    for toe in TOES:
        position = joints[:, toe]
        speed = np.linalg.norm(np.diff(position[:, [0, 2]], axis=0), axis=-1) * fps
        height = np.maximum(position[:-1, 1], position[1:, 1]) - floor
        contact = height < contact_height
        total += float(speed[contact].sum())
        count += int(contact.sum())
    return total, count


def foot_skating(joints: np.ndarray, fps: float = 20.0) -> float:
    """Mean horizontal toe speed (m/s) while in contact; 0 for a clip without contact."""
    total, count = skating(joints, fps)
    return total / count if count else 0.0


def ground_penetration(joints: np.ndarray) -> float:
    joints = np.asarray(joints, dtype=np.float64)
    stand_level = float(np.percentile(joints[:, list(TOES), 1].min(-1), 5))
    return max(0.0, stand_level - floor_height(joints))


def bone_length_error(joints: np.ndarray, target_offsets: np.ndarray | None = None) -> float:
    target = np.linalg.norm(HUMANML3D.target_offsets if target_offsets is None else target_offsets, axis=-1)
    parents = HUMANML3D.parents
    child = np.arange(1, len(parents))
    lengths = np.linalg.norm(joints[:, child] - joints[:, parents[child]], axis=-1)
    return float(np.abs(lengths - target[child]).max())
