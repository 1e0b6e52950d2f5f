"""Colours and the colour of every bone: left limbs blue, right limbs red, spine neutral.

Legs (chains that start at the root) take the darker shade of their side, arms the lighter one, so the four limbs
stay distinguishable even in a small storyboard panel.
"""

from __future__ import annotations

from dataclasses import dataclass

RGB = tuple[int, int, int]

BACKGROUND: RGB = (255, 255, 255)
GROUND_LIGHT: RGB = (236, 239, 243)
GROUND_DARK: RGB = (222, 227, 233)
GROUND_EDGE: RGB = (190, 197, 206)
SHADOW: RGB = (196, 202, 210)
TRAJECTORY_FULL: RGB = (168, 214, 205)
TRAJECTORY_DONE: RGB = (31, 138, 112)
TEXT: RGB = (33, 37, 41)
TEXT_MUTED: RGB = (108, 117, 125)
PANEL_BORDER: RGB = (206, 212, 218)

LEFT_LEG: RGB = (21, 67, 150)
LEFT_ARM: RGB = (66, 146, 230)
RIGHT_LEG: RGB = (166, 20, 28)
RIGHT_ARM: RGB = (240, 84, 72)
SPINE: RGB = (64, 64, 70)


@dataclass(frozen=True)
class Bone:
    parent: int
    child: int
    colour: RGB
    side: str  # "left", "right" or "centre"


def chain_side(chain: tuple[int, ...], left: set[int], right: set[int]) -> str:
    """Which side a chain belongs to, by the majority of its joints (the shared first joint aside)."""
    joints = chain[1:]
    n_left = sum(j in left for j in joints)
    n_right = sum(j in right for j in joints)
    if n_left > n_right:
        return "left"
    if n_right > n_left:
        return "right"
    return "centre"


def skeleton_bones(skeleton) -> tuple[list[Bone], int]:
    """Every bone of `skeleton` with its colour, and the head joint (the end of the centre chain)."""
    left, right = set(skeleton.left_joints), set(skeleton.right_joints)
    root = int(list(skeleton.parents).index(-1))
    bones: list[Bone] = []
    head = root
    for chain in skeleton.chains:
        side = chain_side(tuple(chain), left, right)
        is_leg = chain[0] == root
        if side == "left":
            colour = LEFT_LEG if is_leg else LEFT_ARM
        elif side == "right":
            colour = RIGHT_LEG if is_leg else RIGHT_ARM
        else:
            colour = SPINE
            head = int(chain[-1])
        bones.extend(Bone(int(a), int(b), colour, side) for a, b in zip(chain[:-1], chain[1:]))
    return bones, head


def mix(colour: RGB, other: RGB, amount: float) -> RGB:
    """`amount` of the way from `colour` to `other`."""
    return tuple(int(round(c + (o - c) * amount)) for c, o in zip(colour, other))  # type: ignore[return-value]
