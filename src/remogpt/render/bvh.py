"""BVH export of HumanML3D motions on the 22-joint SMPL tree, and a small BVH reader (`read_bvh`).

Joint positions carry only bone directions, so the full rotations are solved down the tree:
- the two joints with three children (Hips: both hips and the spine; Spine2: the neck and both collars) get the
  least-squares rotation (Kabsch) that takes their rest children onto the frame's children; SMPL moves these children
  rigidly, so dataset motions are reproduced exactly;
- every other joint aims its rest bone direction at the bone, with the twist about the bone taken from a
  secondary direction: the next bone for the hips, knees, ankles and shoulders (so knees and elbows bend about a fixed
  local axis), the hip and collar lines for the spine. Where a limb is straight that direction is noise, so the twist
  is interpolated between the bends before and after; joints without a secondary direction (collars, neck,
  forearms) swing from their parent's frame (no twist of their own);
- the leaves (toes, head, hands) keep their parent's rotation: positions do not say how they turn.
Each bone is aimed from the *reconstructed* parent joint, so bones whose length varies (generated motions) do not
accumulate error down the chains; the rest offsets use the motion's mean bone lengths.

Conventions: Y up, the rest pose is a T-pose facing +Z with the left side at +X (SMPL/HumanML3D); channels as in the
HumanML3D/SMPL BVH template (root XYZ position, then ZYX Euler angles in degrees everywhere); the root OFFSET is
zero so readers that replace it with the position channels (Blender, bvhio) and readers that add it agree.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UserInputError
from ..io import atomic_path
from ..motion.quaternion import qbetween, quat_to_matrix
from ..motion.skeleton import HUMANML3D

# BVH names of the HumanML3D joints, in HumanML3D order (pelvis, left_hip, right_hip, spine1, ...).
JOINT_NAMES = (
    "Hips", "LeftUpLeg", "RightUpLeg", "Spine", "LeftLeg", "RightLeg", "Spine1", "LeftFoot", "RightFoot", "Spine2",
    "LeftToe", "RightToe", "Neck", "LeftShoulder", "RightShoulder", "Head", "LeftArm", "RightArm", "LeftForeArm",
    "RightForeArm", "LeftHand", "RightHand",
)
PARENTS = tuple(int(p) for p in HUMANML3D.parents)  # the SMPL tree: (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, ...)
NUM_JOINTS = len(JOINT_NAMES)
ROTATION_ORDER = "ZYX"  # intrinsic: R = Rz @ Ry @ Rx, the channel order Zrotation Yrotation Xrotation
ROOT_CHANNELS = ("Xposition", "Yposition", "Zposition", "Zrotation", "Yrotation", "Xrotation")
JOINT_CHANNELS = ("Zrotation", "Yrotation", "Xrotation")
UNITS = {"m": 1.0, "cm": 100.0}

_X, _Y, _Z = np.eye(3)
# Rest (T-pose) direction of each bone parent -> joint, for joints whose parent has one child. The children of the
# Hips and Spine2 get the motion's own mean configuration instead (see rest_offsets).
_REST_DIRECTIONS = {
    4: -_Y, 5: -_Y, 7: -_Y, 8: -_Y, 10: _Z, 11: _Z,  # thighs, shins, feet
    6: _Y, 9: _Y, 15: _Y,  # spine segments, neck -> head
    16: _X, 17: -_X, 18: _X, 19: -_X, 20: _X, 21: -_X,  # collar bones, upper arms, forearms
}
_MULTI_CHILD = {0: (1, 2, 3), 9: (12, 13, 14)}  # joint -> children, moved by one rigid rotation
# Length of the End Site of each leaf as a fraction of the leaf's own bone, along its rest direction: cosmetic, it
# only gives Blender a visible bone for the toes, head and hands (the joints say nothing about them).
_END_SITES = {10: 0.4, 11: 0.4, 15: 1.0, 20: 0.35, 21: 0.35}
# A hint sets the twist fully once it makes more than ~24 degrees with the bone, and not at all below ~6 degrees (a
# straight limb, where its direction is noise).
_HINT_WEAK, _HINT_STRONG = 0.1, 0.4


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _spine_hint(joints: np.ndarray) -> np.ndarray:
    return _unit(joints[:, 1] - joints[:, 2]) + _unit(joints[:, 13] - joints[:, 14])


# Twist hints, keyed by the joint whose rotation aims its (only) child bone: (the secondary direction in the rest
# pose, perpendicular to that bone; a function of the joint positions (T, J, 3) giving the direction per frame).
_TWIST_HINTS = {
    1: (-_Z, lambda j: j[:, 7] - j[:, 4]), 2: (-_Z, lambda j: j[:, 8] - j[:, 5]),  # thigh twist from the shin
    4: (_Z, lambda j: j[:, 10] - j[:, 7]), 5: (_Z, lambda j: j[:, 11] - j[:, 8]),  # shin twist from the foot
    7: (_Y, lambda j: j[:, 4] - j[:, 7]), 8: (_Y, lambda j: j[:, 5] - j[:, 8]),  # foot twist from the shin
    3: (_X, _spine_hint), 6: (_X, lambda j: j[:, 13] - j[:, 14]),  # spine twist from the hip and collar lines
    16: (_Z, lambda j: j[:, 20] - j[:, 18]), 17: (_Z, lambda j: j[:, 21] - j[:, 19]),  # upper arm from the forearm
}


def _children(joint: int) -> list[int]:
    return [child for child, parent in enumerate(PARENTS) if parent == joint]


def _depth_first(joint: int = 0) -> list[int]:
    order = [joint]
    for child in _children(joint):
        order += _depth_first(child)
    return order


FILE_ORDER = tuple(_depth_first())  # joints in the order the hierarchy (and each motion line) lists them


@dataclass(frozen=True)
class BvhAnimation:
    """A motion solved onto the BVH tree (metres, HumanML3D joint order)."""

    offsets: np.ndarray  # (J, 3) rest offset of each joint from its parent (root: zero)
    end_sites: dict[int, np.ndarray]  # leaf joint -> End Site offset (3,)
    root_positions: np.ndarray  # (T, 3)
    local_rotations: np.ndarray  # (T, J, 3, 3) rotation of each joint relative to its parent (root: global)
    joints: np.ndarray  # (T, J, 3) the positions these channels reproduce (forward kinematics)
    errors: np.ndarray  # (T, J) distance to the input joints

    @property
    def num_frames(self) -> int:
        return len(self.root_positions)


def _check_motion(motion, name: str) -> np.ndarray:
    """Joints (T, 22, 3) float64 from features (T, 263) or joints (T, 22|52, 3) / (T, 66); KIT-ML's (T, 251) or
    (T, 21, 3) are placed on the SMPL tree first (motion/kit.py: KIT units to metres, collars and spine filled in)."""
    from ..motion.features import motion_to_joints
    from ..motion.kit import kit_to_smpl
    from ..motion.skeleton import KIT

    if not isinstance(motion, np.ndarray) or not np.issubdtype(motion.dtype, np.number):
        raise UserInputError(f"{name} must be a numeric array, got {type(motion).__name__}.")
    joints = motion_to_joints(motion, where=name)
    if joints.shape[1] == KIT.num_joints:
        joints = kit_to_smpl(joints)
    if joints.shape[1] != NUM_JOINTS:
        raise UserInputError(
            f"{name} has {joints.shape[1]} joints; BVH export supports HumanML3D's 22 joints and KIT-ML's 21."
        )
    if not np.isfinite(joints).all():  # absurd features can decode to infinity
        raise UserInputError(f"{name} decodes to non-finite joint positions.")
    joints = joints.astype(np.float64)
    child = np.arange(1, NUM_JOINTS)
    lengths = np.linalg.norm(joints[:, child] - joints[:, np.array(PARENTS)[child]], axis=-1)
    if lengths.min() < 1e-5:
        frame, bone = np.unravel_index(np.argmin(lengths), lengths.shape)
        raise UserInputError(
            f"{name} has a zero-length bone ({JOINT_NAMES[bone + 1]}) at frame {frame}; its rotation is undefined."
        )
    return joints


def _basis(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """Orthonormal frames (..., 3, 3) whose columns are primary, secondary made perpendicular, and their cross."""
    normal = _unit(secondary - (secondary * primary).sum(-1, keepdims=True) * primary)
    return np.stack([primary, normal, np.cross(primary, normal)], axis=-1)


def _kabsch(rest: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Rotations (T, 3, 3) minimising sum |R rest_c - target_c|^2 over children c; rest (C, 3), target (T, C, 3)."""
    covariance = np.einsum("ci,tcj->tij", rest, target)
    u, _, vt = np.linalg.svd(covariance)
    flip = np.sign(np.linalg.det(np.einsum("tji,tkj->tik", vt, u)))  # det(V U^T): avoid reflections
    fix = np.ones((len(target), 3))
    fix[:, 2] = flip
    return np.einsum("tji,tj,tkj->tik", vt, fix, u)


def _carry(bones: list, hints: list, weights: list, start, order) -> tuple[np.ndarray, np.ndarray]:
    """One pass over the frames in `order`: the secondary, pulled toward the hint by its weight and otherwise carried
    from the previous frame (made perpendicular to the bone), and how many frames it has been carried."""
    secondaries, carried = [None] * len(bones), [0.0] * len(bones)
    sx, sy, sz = start
    distance = 1e9  # nothing seen yet: the starting guess deserves no trust
    for t in order:  # plain floats: this is the exporter's only per-frame Python loop
        bx, by, bz = bones[t]
        hx, hy, hz = hints[t]
        w = weights[t]
        d = sx * bx + sy * by + sz * bz
        px, py, pz = sx - d * bx, sy - d * by, sz - d * bz
        norm = math.sqrt(px * px + py * py + pz * pz)
        if norm < 1e-9:  # the bone turned onto the carried secondary: only the hint is left
            px, py, pz, norm = hx, hy, hz, 1.0
        sx, sy, sz = w * hx + (1 - w) * px / norm, w * hy + (1 - w) * py / norm, w * hz + (1 - w) * pz / norm
        norm = math.sqrt(sx * sx + sy * sy + sz * sz)
        if norm > 1e-9:
            sx, sy, sz = sx / norm, sy / norm, sz / norm
        distance = (1 - w) * (distance + 1)
        secondaries[t] = (sx, sy, sz)
        carried[t] = distance
    return np.array(secondaries), np.array(carried)


def _twist_secondaries(bone: np.ndarray, hint: np.ndarray, rest: np.ndarray, rest_secondary: np.ndarray):
    """Secondary direction (T, 3) perpendicular to each frame's bone, both in the parent's frame.

    Where the limb is bent it is the hint made perpendicular to the bone (knees and elbows bend one way, so its sign
    is meaningful). Across a stretch where the limb is straight the hint is noise, so the twist is interpolated
    between the bends before and after it: a forward and a backward pass carry the secondary in the parent's
    frame, and are blended by how long each has been carried.
    """
    hint = _unit(hint)
    hint = hint - (hint * bone).sum(-1, keepdims=True) * bone
    strength = np.linalg.norm(hint, axis=-1)
    ramp = np.clip((strength - _HINT_WEAK) / (_HINT_STRONG - _HINT_WEAK), 0.0, 1.0)
    weight = ramp * ramp * (3.0 - 2.0 * ramp)  # smoothstep
    hint = hint / np.maximum(strength, 1e-12)[:, None]
    frames = range(len(bone))
    bones, hints, weights = bone.tolist(), hint.tolist(), weight.tolist()
    first = quat_to_matrix(qbetween(rest, bone[0])) @ rest_secondary  # the swing of the rest twist
    last = quat_to_matrix(qbetween(rest, bone[-1])) @ rest_secondary
    forward, after = _carry(bones, hints, weights, first, frames)
    backward, before = _carry(bones, hints, weights, last, reversed(frames))
    share = (after / np.maximum(after + before, 1e-12))[:, None]  # 0 right after a bend, 1 right before one
    blended = (1 - share) * forward + share * backward
    norm = np.linalg.norm(blended, axis=-1, keepdims=True)
    return np.where(norm > 1e-6, blended / np.maximum(norm, 1e-12), forward)  # opposite passes: keep the forward one


def rest_offsets(joints: np.ndarray) -> np.ndarray:
    """Rest offsets (J, 3): T-pose directions x mean bone lengths; the Hips' and Spine2's children as in the motion.

    The children of a multi-child joint are measured in a per-frame frame (x: the left-right line, y: the first
    child line made perpendicular), averaged over frames, so the rest pose faces +Z with the left side at +X.
    """
    child = np.arange(1, NUM_JOINTS)
    bones = joints[:, child] - joints[:, np.array(PARENTS)[child]]
    lengths = np.zeros(NUM_JOINTS)
    lengths[1:] = np.linalg.norm(bones, axis=-1).mean(axis=0)
    offsets = np.zeros((NUM_JOINTS, 3))
    for joint, direction in _REST_DIRECTIONS.items():
        offsets[joint] = lengths[joint] * direction
    for parent, (up, left, right) in ((0, (3, 1, 2)), (9, (12, 13, 14))):
        frame = _basis(_unit(joints[:, left] - joints[:, right]), joints[:, up] - joints[:, parent])
        for c in _MULTI_CHILD[parent]:
            local = np.einsum("tji,tj->ti", frame, _unit(joints[:, c] - joints[:, parent]))
            offsets[c] = lengths[c] * _unit(local.mean(axis=0))
    return offsets


def solve_bvh(motion: np.ndarray, name: str = "motion") -> BvhAnimation:
    """Solve local rotations and root positions that reproduce `motion` (features or joints) on the BVH tree."""
    joints = _check_motion(motion, name)
    frames = len(joints)
    offsets = rest_offsets(joints)
    positions = np.zeros_like(joints)  # reconstructed (forward kinematics) positions
    rotations = np.zeros((frames, NUM_JOINTS, 3, 3))  # global
    positions[:, 0] = joints[:, 0]
    for joint in FILE_ORDER:
        parent = PARENTS[joint]
        children = _children(joint)
        if joint in _MULTI_CHILD:
            targets = joints[:, list(children)] - positions[:, joint, None]
            rotations[:, joint] = _kabsch(offsets[list(children)], targets)
        elif not children:
            rotations[:, joint] = rotations[:, parent]
        else:
            (child,) = children
            rest = offsets[child] / np.linalg.norm(offsets[child])
            bone = _unit(joints[:, child] - positions[:, joint])
            parent_rot = rotations[:, parent]
            if joint in _TWIST_HINTS:
                rest_secondary, hint = _TWIST_HINTS[joint]
                to_local = np.swapaxes(parent_rot, -1, -2)
                secondary = _twist_secondaries(
                    np.einsum("tij,tj->ti", to_local, bone),
                    np.einsum("tij,tj->ti", to_local, hint(joints)),
                    rest,
                    rest_secondary,
                )
                secondary = np.einsum("tij,tj->ti", parent_rot, secondary)
                rotation = _basis(bone, secondary) @ _basis(rest, rest_secondary).T
            else:
                # Swing from the parent's frame: singular only when the bone points opposite its rest direction
                # relative to the parent (a neck bent 180 degrees), which bodies do not do.
                rotation = quat_to_matrix(qbetween(parent_rot @ rest, bone)) @ parent_rot
            rotations[:, joint] = rotation
        for child in children:
            positions[:, child] = positions[:, joint] + rotations[:, joint] @ offsets[child]
    local = rotations.copy()
    child = np.arange(1, NUM_JOINTS)
    local[:, child] = np.swapaxes(rotations[:, np.array(PARENTS)[child]], -1, -2) @ rotations[:, child]
    end_sites = {}
    for leaf, fraction in _END_SITES.items():  # leaves keep their parent's rotation: the End Site extends the bone
        end_sites[leaf] = fraction * np.linalg.norm(offsets[leaf]) * _REST_DIRECTIONS[leaf]
    return BvhAnimation(
        offsets=offsets,
        end_sites=end_sites,
        root_positions=joints[:, 0].copy(),
        local_rotations=local,
        joints=positions,
        errors=np.linalg.norm(positions - joints, axis=-1),
    )


def _euler_degrees(matrices: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    with warnings.catch_warnings():  # gimbal lock (a 90-degree middle angle) still gives angles that reproduce R
        warnings.simplefilter("ignore", UserWarning)
        return Rotation.from_matrix(matrices.reshape(-1, 3, 3)).as_euler(ROTATION_ORDER, degrees=True).reshape(
            matrices.shape[:-2] + (3,)
        )


def _check_options(fps: float, units: str) -> float:
    if units not in UNITS:
        raise UserInputError(f"units '{units}' is not supported; expected one of {', '.join(UNITS)}.")
    try:
        valid = math.isfinite(float(fps)) and float(fps) > 0
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise UserInputError(f"fps must be a positive number, got {fps}.")
    return UNITS[units]


def format_bvh(animation: BvhAnimation, fps: float = 20.0, units: str = "m") -> str:
    """The BVH text of a solved animation; offsets and root positions scaled to `units`."""
    scale = _check_options(fps, units)
    lines = ["HIERARCHY"]

    def vector(v: np.ndarray) -> str:
        return " ".join(f"{x * scale + 0.0:.6f}" if abs(x * scale) >= 5e-7 else "0.000000" for x in v)

    def write_joint(joint: int, depth: int) -> None:
        pad = "\t" * depth
        lines.append(f"{pad}{'ROOT' if joint == 0 else 'JOINT'} {JOINT_NAMES[joint]}")
        lines.append(pad + "{")
        lines.append(f"{pad}\tOFFSET {vector(animation.offsets[joint])}")
        channels = ROOT_CHANNELS if joint == 0 else JOINT_CHANNELS
        lines.append(f"{pad}\tCHANNELS {len(channels)} {' '.join(channels)}")
        children = _children(joint)
        for child in children:
            write_joint(child, depth + 1)
        if not children:
            end_site = vector(animation.end_sites[joint])
            lines.extend([f"{pad}\tEnd Site", f"{pad}\t{{", f"{pad}\t\tOFFSET {end_site}", f"{pad}\t}}"])
        lines.append(pad + "}")

    write_joint(0, 0)
    angles = _euler_degrees(animation.local_rotations[:, list(FILE_ORDER)])  # (T, J, 3) in Z, Y, X order
    values = np.concatenate([animation.root_positions * scale, angles.reshape(animation.num_frames, -1)], axis=1)
    values[np.abs(values) < 5e-7] = 0.0  # no "-0.000000"
    lines += ["MOTION", f"Frames: {animation.num_frames}", f"Frame Time: {1.0 / fps:.8f}"]
    buffer = io.StringIO()
    np.savetxt(buffer, values, fmt="%.6f")
    return "\n".join(lines) + "\n" + buffer.getvalue()


@dataclass(frozen=True)
class BvhReport:
    frames: int
    fps: float
    units: str
    mean_error_m: float  # joint position error of the written channels against the input, metres
    max_error_m: float


def write_bvh(
    motion: np.ndarray, path: str | Path, fps: float = 20.0, units: str = "m", *, name: str = "motion"
) -> BvhReport:
    """Write `motion` (features (T, 263) or joints (T, 22, 3), metres, Y up; or KIT-ML's, see _check_motion) as a BVH
    file; returns a BvhReport.

    Nothing is written unless the whole export succeeds.
    """
    path = Path(path)
    if path.suffix.lower() != ".bvh":
        raise UserInputError(f"output '{path}' has extension '{path.suffix}', expected .bvh.")
    if path.is_dir():
        raise UserInputError(f"output '{path}' is a folder, expected a .bvh file path.")
    _check_options(fps, units)
    animation = solve_bvh(motion, name=name)
    text = format_bvh(animation, fps=fps, units=units)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return BvhReport(
        frames=animation.num_frames,
        fps=float(fps),
        units=units,
        mean_error_m=float(animation.errors.mean()),
        max_error_m=float(animation.errors.max()),
    )


# ---------------------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class BvhFile:
    """A parsed BVH file: joints in file order (End Sites excluded)."""

    names: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: np.ndarray  # (J, 3)
    channels: tuple[tuple[str, ...], ...]
    frame_time: float
    motion: np.ndarray  # (T, total channels)

    def positions(self) -> np.ndarray:
        """World joint positions (T, J, 3) by forward kinematics on the channels.

        Position channels replace the joint's OFFSET (as Blender and bvhio read them); rotation channels compose
        intrinsically in the order listed.
        """
        from scipy.spatial.transform import Rotation

        frames = len(self.motion)
        positions = np.zeros((frames, len(self.names), 3))
        rotations = np.zeros((frames, len(self.names), 3, 3))
        column = 0
        for joint, channels in enumerate(self.channels):
            local_position = np.broadcast_to(self.offsets[joint], (frames, 3)).copy()
            order, angles = "", []
            for channel in channels:
                values = self.motion[:, column]
                column += 1
                axis = "XYZ".index(channel[0].upper())
                if channel[1:].lower() == "position":
                    local_position[:, axis] = values
                else:
                    order += channel[0].upper()
                    angles.append(values)
            local = (
                Rotation.from_euler(order, np.stack(angles, axis=1), degrees=True).as_matrix()
                if order
                else np.broadcast_to(np.eye(3), (frames, 3, 3))
            )
            parent = self.parents[joint]
            if parent < 0:
                positions[:, joint] = local_position
                rotations[:, joint] = local
            else:
                step = np.einsum("tij,tj->ti", rotations[:, parent], local_position)
                positions[:, joint] = positions[:, parent] + step
                rotations[:, joint] = rotations[:, parent] @ local
        return positions


def read_bvh(path: str | Path) -> BvhFile:
    """Parse a BVH file (any hierarchy, any channel order); bad files raise UserInputError."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"BVH file '{path}' does not exist.")
    tokens = path.read_text().split()
    names, parents, offsets, channels = [], [], [], []
    stack: list[int] = []  # open joints; -2 marks an End Site block
    position = 0

    def take(count: int) -> list[str]:
        nonlocal position
        if position + count > len(tokens):
            raise UserInputError(f"BVH file '{path}' ends inside its HIERARCHY section.")
        position += count
        return tokens[position - count : position]

    try:
        if take(1) != ["HIERARCHY"]:
            raise UserInputError(f"BVH file '{path}' does not start with HIERARCHY.")
        while True:
            (token,) = take(1)
            if token in ("ROOT", "JOINT"):
                (name,) = take(1)
                names.append(name)
                parents.append(stack[-1] if stack else -1)
                stack.append(len(names) - 1)
                take(1)  # "{"
            elif token == "End":
                take(2)  # "Site", "{"
                stack.append(-2)
            elif token == "OFFSET":
                values = [float(v) for v in take(3)]
                if stack[-1] != -2:
                    offsets.append(values)
            elif token == "CHANNELS":
                (count,) = take(1)
                channels.append(tuple(take(int(count))))
            elif token == "}":
                stack.pop()
            elif token == "MOTION":
                break
            else:
                raise UserInputError(f"BVH file '{path}' has an unexpected token '{token}' in its HIERARCHY section.")
        _, count, _, _, frame_time = take(5)  # Frames: N Frame Time: dt
        width = sum(len(c) for c in channels)
        values = np.array(tokens[position:], dtype=np.float64)
    except (ValueError, IndexError) as error:
        raise UserInputError(f"BVH file '{path}' is malformed ({error}).") from None
    if len(offsets) != len(names) or len(channels) != len(names) or values.size != int(count) * width:
        raise UserInputError(f"BVH file '{path}' has inconsistent joints, channels or frame data.")
    return BvhFile(
        names=tuple(names),
        parents=tuple(parents),
        offsets=np.array(offsets, dtype=np.float64),
        channels=tuple(channels),
        frame_time=float(frame_time),
        motion=values.reshape(int(count), width),
    )
