"""Planted feet that stay planted: the foot-contact clean-up of decoded motions.

A token model's decoder writes each frame's pose and root velocity separately, so a foot its own contact channels
call planted still slides over the floor: the shipped tokenizer's reconstructions of real built-in clips skate at
0.154 m/s where the clips themselves do 0.036 (bench/bench_foot_contact.py). HumanML3D's features carry those
contact channels (the last four dims: left ankle, left toe, right ankle, right toe), so the clean-up follows them:
foot locking (Kovar et al. 2002, "Footskate cleanup"). Over each run of planted frames the foot is held as a rigid
piece at its contact joints' average places there (`lock_foot`), and the leg reaches it by two-bone IK (hip fixed,
thigh and shin keeping their lengths, the knee turning about the hip-ankle line as little as it can); the hold
fades in and out over BLEND_FRAMES on either side, so nothing pops.

Only the moved joints' positions and velocities are written back into the features; the root's path, the
rotations and the contact channels stay as decoded; a run whose hold would move the foot more than MAX_HOLD_METRES
is left alone. Measured on the built-in test split: reconstructions 0.154 -> 0.009 m/s, the model's motions 0.157 ->
0.010, real clips 0.036 -> 0.018, with the evaluator's FID and R-precision of the decoded motions unchanged
(bench/results/foot_contact.md). Two designs were measured and dropped:
re-encoding the cleaned joints with `joints_to_features`, or also moving the root with the feet, skated no less but
moved the motions away from the data (the reconstructions' FID went from 0.45 to 0.94 under the built-in evaluator).
"""

from __future__ import annotations

import numpy as np

from .features import as_features, features_to_joints, num_joints_for_dim, recover_root
from .kit import units_per_metre
from .quaternion import qrot
from .skeleton import Skeleton, skeleton_for

CONTACT_THRESHOLD = 0.5  # a decoded contact channel above this calls the joint planted
GAP_FRAMES = 2  # planted runs this close together are one run (a flickering channel does not unlock the foot)
BLEND_FRAMES = 3  # frames over which a locked foot's offset fades in before and out after its planted run
# a run whose hold would move the foot further than this (metres) is the decoder walking on a stuck channel, not a
# planted foot: it is left as decoded rather than dragging the leg there
MAX_HOLD_METRES = 0.4


def plant_feet(features: np.ndarray) -> np.ndarray:
    """Raw features (T, 263|251) of the same motion with planted feet held still (foot locking; see the module)."""
    features = as_features(features).astype(np.float64)
    if len(features) < 3:
        return features.astype(np.float32)
    skeleton = skeleton_for(num_joints_for_dim(features.shape[1]))
    planted = features[:, -4:] > CONTACT_THRESHOLD  # (T, 4) in the order feet_left + feet_right
    joints = features_to_joints(features).astype(np.float64)
    moved: list[int] = []
    for side, labels in ((skeleton.feet_left, planted[:, :2]), (skeleton.feet_right, planted[:, 2:])):
        moved += lock_foot(joints, skeleton, side, labels)
    return with_positions(features, joints, moved).astype(np.float32)


def with_positions(features: np.ndarray, joints: np.ndarray, moved: list[int]) -> np.ndarray:
    """The features with the positions of the `moved` joints (never the root) written back: their root-relative
    positions (ric) and local velocities, in the root's facing frame as HumanML3D's process_file writes them.
    Everything else (root, rotations, contacts) stays as decoded."""
    if not moved:
        return features
    num_joints = joints.shape[1]
    quats, root = recover_root(features)
    out = features.copy()
    moved = sorted(moved)
    relative = joints[:, moved] - (root * np.array([1.0, 0.0, 1.0]))[:, None]
    ric = qrot(np.repeat(quats[:, None], len(moved), axis=1), relative)
    velocity = qrot(np.repeat(quats[:-1, None], len(moved), axis=1), np.diff(joints[:, moved], axis=0))
    ric_start = 4
    velocity_start = 4 + 3 * (num_joints - 1) + 6 * (num_joints - 1)
    for k, joint in enumerate(moved):
        out[:, ric_start + 3 * (joint - 1) : ric_start + 3 * joint] = ric[:, k]
        out[:-1, velocity_start + 3 * joint : velocity_start + 3 * joint + 3] = velocity[:, k]
    return out


def lock_foot(joints: np.ndarray, skeleton: Skeleton, contact_joints: tuple[int, int], labels: np.ndarray) -> list[int]:
    """One leg, in place: hold the foot over each planted run and solve the knee; returns the joints it moved.

    Each contact joint has a home in a run: where it stands on average while planted there (so a heel-to-toe roll
    moves no target). The foot moves as a rigid piece: translated so its pivot (the toe when planted, else the
    heel joint) is at home, and, where both are planted, turned about the vertical through the pivot so the other
    points at its home (a turn about the vertical keeps every bone's length and every height)."""
    chain = next(c for c in skeleton.chains if contact_joints[0] in c)
    hip, knee, foot = chain[1], chain[2], list(chain[3:])  # the ankle and what hangs below it
    frames = len(joints)
    offset = np.zeros((frames, 2))
    turn = np.zeros(frames)  # yaw (radians) about the pivot
    weight = np.zeros(frames)
    pivot = np.full(frames, foot.index(contact_joints[0]))
    for start, end in _runs(labels.any(axis=1)):
        members = labels[start:end].copy()  # which of the two contact joints are planted, frame by frame
        members[~members.any(axis=1)] = True  # a joined gap: both
        where = joints[start:end][:, list(contact_joints)][..., [0, 2]]  # (n, 2, 2)
        home = (where * members[..., None]).sum(0) / np.maximum(members.sum(0), 1)[:, None]
        first = np.where(members[:, 1], 1, 0)  # the pivot: the toe when it is planted, else the other
        run_offset = home[first] - where[np.arange(len(first)), first]
        both = members.all(axis=1)
        now, wanted = where[:, 0] - where[:, 1], home[0] - home[1]  # from the pivot to the other
        run_turn = np.where(both, np.arctan2(wanted[1], wanted[0]) - np.arctan2(now[:, 1], now[:, 0]), 0.0)
        run_turn = (run_turn + np.pi) % (2 * np.pi) - np.pi
        if np.linalg.norm(run_offset, axis=-1).max() > MAX_HOLD_METRES * units_per_metre(skeleton):
            continue
        for t in range(max(0, start - BLEND_FRAMES), min(frames, end + BLEND_FRAMES)):
            inside = min(max(t, start), end - 1)
            fade = 1.0 - (abs(t - inside) / (BLEND_FRAMES + 1))
            if fade > weight[t]:  # where two runs' fades meet, the nearer run wins
                offset[t], turn[t], weight[t] = run_offset[inside - start], run_turn[inside - start], fade
                pivot[t] = foot.index(contact_joints[first[inside - start]])
    moved = np.flatnonzero(weight > 0)
    if not len(moved):
        return []
    thigh = np.linalg.norm(joints[moved, knee] - joints[moved, hip], axis=-1)
    shin = np.linalg.norm(joints[moved, foot[0]] - joints[moved, knee], axis=-1)
    piece = joints[np.ix_(moved, foot)]  # (m, F, 3)
    piece[..., [0, 2]] += (offset[moved] * weight[moved, None])[:, None]
    centre = piece[np.arange(len(moved)), pivot[moved]][:, [0, 2]]  # (m, 2)
    angle = turn[moved] * weight[moved]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    relative = piece[..., [0, 2]] - centre[:, None]
    # (x, z) turned by `angle` in the x-z plane, the same sense as arctan2(z, x) above
    piece[..., 0] = centre[:, None, 0] + cos * relative[..., 0] - sin * relative[..., 1]
    piece[..., 2] = centre[:, None, 1] + sin * relative[..., 0] + cos * relative[..., 1]
    joints[np.ix_(moved, foot)] = piece
    joints[moved, knee] = _two_bone_knee(joints[moved, hip], joints[moved, knee], joints[moved, foot[0]], thigh, shin)
    return [knee, *foot]


def _two_bone_knee(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, thigh: np.ndarray, shin: np.ndarray) -> np.ndarray:
    """The knee that joins a thigh from `hip` and a shin to `ankle` (lengths kept), bent toward the old knee."""
    axis = ankle - hip
    reach = np.linalg.norm(axis, axis=-1)
    along = axis / np.maximum(reach, 1e-9)[:, None]
    reach = np.clip(reach, np.abs(thigh - shin) + 1e-6, thigh + shin - 1e-6)  # out of reach: straight leg toward it
    bend = knee - hip - (((knee - hip) * along).sum(-1))[:, None] * along  # the old knee's side of the hip-ankle line
    bend = bend / np.maximum(np.linalg.norm(bend, axis=-1), 1e-9)[:, None]
    cos_hip = np.clip((thigh**2 + reach**2 - shin**2) / (2 * thigh * reach), -1.0, 1.0)
    return hip + thigh[:, None] * (cos_hip[:, None] * along + np.sqrt(1 - cos_hip**2)[:, None] * bend)


def _runs(mask: np.ndarray, gap: int = GAP_FRAMES) -> list[tuple[int, int]]:
    """[start, end) of every run of True, runs at most `gap` frames apart joined."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    runs: list[tuple[int, int]] = []
    for start, end in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
        if runs and start - runs[-1][1] <= gap:
            runs[-1] = (runs[-1][0], int(end))
        else:
            runs.append((int(start), int(end)))
    return runs
