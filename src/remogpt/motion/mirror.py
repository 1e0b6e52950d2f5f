"""Mirroring motions and captions, as HumanML3D builds its M-prefixed twins."""

from __future__ import annotations

import re

import numpy as np

from .skeleton import HUMANML3D, Skeleton

_SIDE_WORDS = {"left": "right", "right": "left", "Left": "Right", "Right": "Left", "LEFT": "RIGHT", "RIGHT": "LEFT"}
_SIDE_PATTERN = re.compile(r"\b(left|right|Left|Right|LEFT|RIGHT)\b")


def mirror_joints(joints: np.ndarray, skeleton: Skeleton = HUMANML3D) -> np.ndarray:
    """Negate x and swap left/right joints."""
    mirrored = np.array(joints, copy=True)
    mirrored[..., 0] *= -1
    left, right = list(skeleton.left_joints), list(skeleton.right_joints)
    mirrored[..., left + right, :] = mirrored[..., right + left, :]
    return mirrored


def mirror_caption(text: str) -> str:
    """Swap the words left and right (any case), leaving everything else untouched."""
    return _SIDE_PATTERN.sub(lambda match: _SIDE_WORDS[match.group(0)], text)
