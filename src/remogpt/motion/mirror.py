"""Mirroring motions and captions, as HumanML3D builds its M-prefixed twins."""

from __future__ import annotations

import re

import numpy as np

from .skeleton import HUMANML3D, Skeleton

_PAIRS = (("left", "right"), ("clockwise", "counterclockwise"), ("clockwise", "anticlockwise"), ("clockwise", "counter-clockwise"))
_SIDE_WORDS: dict[str, str] = {}
for _a, _b in _PAIRS:
    for _case in (str.lower, str.capitalize, str.upper):
        _SIDE_WORDS.setdefault(_case(_a), _case(_b))
        _SIDE_WORDS[_case(_b)] = _case(_a)
_SIDE_PATTERN = re.compile(r"(?<![\w-])(" + "|".join(sorted(map(re.escape, _SIDE_WORDS), key=len, reverse=True)) + r")(?![\w-])")


def mirror_joints(joints: np.ndarray, skeleton: Skeleton = HUMANML3D) -> np.ndarray:
    """Negate x and swap left/right joints."""
    mirrored = np.array(joints, copy=True)
    mirrored[..., 0] *= -1
    left, right = list(skeleton.left_joints), list(skeleton.right_joints)
    mirrored[..., left + right, :] = mirrored[..., right + left, :]
    return mirrored


def mirror_caption(text: str) -> str:
    """Swap left/right and clockwise/counterclockwise (any case), leaving everything else untouched.

    HumanML3D's own script swaps only left/right; a mirrored circle also turns the other way, so we swap both.
    """
    return _SIDE_PATTERN.sub(lambda match: _SIDE_WORDS[match.group(0)], text)
