"""Channels (track.py) -> joint positions (T, 22, 3) on the rig, with exact bone lengths.

- Pelvis: position and yaw/pitch/roll. Its height is lowered where needed so both ankle targets stay within reach
  (this is also what makes a walking pelvis bob: it is highest over the stance foot, like an inverted pendulum).
- Legs: two-bone IK from each hip to its ankle target, knee bending towards the foot's heading; the toe joint is
  placed from the ankle by the foot's yaw and pitch.
- Spine, neck, head: hierarchical rotations distributed over spine1-3; collars and arms hang off the thorax frame.
- Arms: (azimuth, elevation, elbow flexion, humeral rotation) in the thorax frame, see `arm_vectors`.
"""

from __future__ import annotations

import numpy as np

from .curves import gaussian
from .rig import (
    ANKLE, COLLAR, ELBOW, HEAD, HIP, KNEE, NECK, NUM_JOINTS, PELVIS, SHOULDER, SIDE_SIGN, SPINE1, SPINE2, SPINE3,
    TOE, WRIST, Rig, apply, euler, foot_direction, heading, rot_y, rot_z, two_bone_ik,
)
from .track import Track

SPINE_SHARE = np.array([[0.4, 0.35, 0.25], [0.34, 0.33, 0.33], [0.3, 0.35, 0.35]])  # pitch, roll, yaw per joint
LEG_REACH = 0.997  # fraction of the leg length an ankle target may be from its hip
KNEE_OUT = np.deg2rad(8.0)
NECK_SHARE = 0.35  # part of the neck channel applied at the base of the neck  # knees point slightly outwards, over the toes


def arm_vectors(params: np.ndarray, side_sign: float) -> tuple[np.ndarray, np.ndarray]:
    """Upper-arm and forearm unit vectors (..., 3) in the thorax frame from pose parameters (..., 4).

    The upper arm leaves the shoulder at `elevation` from hanging, in the vertical plane at `azimuth` (0 forward,
    pi/2 sideways outwards). The elbow flexes the forearm towards the direction the arm elevates in, turned about the
    upper arm by `rotation` (positive towards the midline): a sideways-raised arm with a 90 degree elbow points the
    forearm up (a wave), a hanging arm's elbow flexion brings the forearm forward.
    """
    azimuth, elevation, flexion, rotation = np.moveaxis(np.asarray(params, dtype=np.float64), -1, 0)
    sa, ca, se, ce = np.sin(azimuth), np.cos(azimuth), np.sin(elevation), np.cos(elevation)
    upper = np.stack([side_sign * sa * se, -ce, ca * se], -1)
    along = np.stack([side_sign * sa * ce, se, ca * ce], -1)  # d(upper)/d(elevation): perpendicular to upper
    across = side_sign * np.cross(upper, along)
    bend = np.cos(rotation)[..., None] * along + np.sin(rotation)[..., None] * across
    forearm = np.cos(flexion)[..., None] * upper + np.sin(flexion)[..., None] * bend
    return upper, forearm


def arm_params_for_wrist(
    rig: Rig, side: int, wrist: np.ndarray, pole: np.ndarray
) -> np.ndarray:
    """Pose parameters (4,) that put the wrist at `wrist` (relative to the shoulder, thorax frame, left-side coordinates:
    +x is outwards), with the elbow bending towards `pole` (same coordinates)."""
    sign = SIDE_SIGN[side]
    flip = np.array([sign, 1.0, 1.0])
    target = np.asarray(wrist, dtype=np.float64) * flip
    elbow, hand = two_bone_ik(np.zeros(3), target, rig.upper_arm(side), rig.forearm(side), np.asarray(pole) * flip)
    upper = elbow / np.linalg.norm(elbow)
    forearm = (hand - elbow) / np.linalg.norm(hand - elbow)
    elevation = float(np.arccos(np.clip(-upper[1], -1.0, 1.0)))
    azimuth = float(np.arctan2(sign * upper[0], upper[2])) if np.sin(elevation) > 1e-6 else 0.0
    flexion = float(np.arccos(np.clip((upper * forearm).sum(), -1.0, 1.0)))
    rotation = 0.0
    if np.sin(flexion) > 1e-6:
        _, along_fore = arm_vectors(np.array([azimuth, elevation, np.pi / 2, 0.0]), sign)
        _, across_fore = arm_vectors(np.array([azimuth, elevation, np.pi / 2, np.pi / 2]), sign)
        rotation = float(np.arctan2((forearm * across_fore).sum(), (forearm * along_fore).sum()))
    return np.array([azimuth, elevation, flexion, rotation])


def constrain_pelvis_height(track: Track, rig: Rig) -> np.ndarray:
    """Pelvis heights (n,) no higher than the track asks and low enough that both ankle targets are reachable."""
    rotation = euler(track.yaw, track.pelvis_pitch, track.pelvis_roll)
    wanted = track.pelvis[:, 1].copy()
    ceiling = np.full(track.n, np.inf)
    for side in (0, 1):
        hip_offset = apply(rotation, np.broadcast_to(rig.offsets[HIP[side]], (track.n, 3)))
        hip = track.pelvis + hip_offset
        reach = LEG_REACH * rig.leg(side)
        horizontal = np.sqrt(((hip[:, [0, 2]] - track.ankle[:, side, [0, 2]]) ** 2).sum(-1))
        vertical = np.sqrt(np.maximum(reach**2 - horizontal**2, 0.0))
        ceiling = np.minimum(ceiling, track.ankle[:, side, 1] + vertical - hip_offset[:, 1])
    height = np.minimum(wanted, ceiling)
    # Smooth the kinks where the constraint takes over, then enforce it again.
    return np.minimum(gaussian(height, 1.5), ceiling)


def track_to_joints(track: Track, rig: Rig) -> np.ndarray:
    """(n, 22, 3) joint positions of a track."""
    n = track.n
    joints = np.zeros((n, NUM_JOINTS, 3))
    pelvis = track.pelvis.copy()
    pelvis[:, 1] = constrain_pelvis_height(track, rig)
    pelvis_rot = euler(track.yaw, track.pelvis_pitch, track.pelvis_roll)
    joints[:, PELVIS] = pelvis

    def offset(joint: int) -> np.ndarray:
        return np.broadcast_to(rig.offsets[joint], (n, 3))

    # Legs.
    for side in (0, 1):
        hip = pelvis + apply(pelvis_rot, offset(HIP[side]))
        pole = heading(track.foot_yaw[:, side] + SIDE_SIGN[side] * KNEE_OUT)
        knee, ankle = two_bone_ik(hip, track.ankle[:, side], rig.thigh(side), rig.shin(side), pole)
        toe = ankle + rig.foot(side) * foot_direction(track.foot_yaw[:, side], track.foot_pitch[:, side])
        joints[:, HIP[side]], joints[:, KNEE[side]], joints[:, ANKLE[side]], joints[:, TOE[side]] = hip, knee, ankle, toe

    # Spine, neck and head.
    frame = pelvis_rot
    position = pelvis
    for share, joint in zip(SPINE_SHARE.T, (SPINE1, SPINE2, SPINE3)):
        position = position + apply(frame, offset(joint))
        joints[:, joint] = position
        frame = frame @ euler(track.spine[:, 2] * share[2], track.spine[:, 0] * share[0], track.spine[:, 1] * share[1])
    thorax = frame
    # The cervical spine bends along the neck bone too (a third of a nod), the rest is at the skull.
    lower_neck = thorax @ euler(track.neck[:, 2] * NECK_SHARE, track.neck[:, 0] * NECK_SHARE, track.neck[:, 1] * NECK_SHARE)
    joints[:, NECK] = joints[:, SPINE3] + apply(lower_neck, offset(NECK))
    rest = 1.0 - NECK_SHARE
    neck_frame = lower_neck @ euler(track.neck[:, 2] * rest, track.neck[:, 0] * rest, track.neck[:, 1] * rest)
    joints[:, HEAD] = joints[:, NECK] + apply(neck_frame, offset(HEAD))

    # Collars and arms.
    for side in (0, 1):
        sign = SIDE_SIGN[side]
        collar = joints[:, SPINE3] + apply(thorax, offset(COLLAR[side]))
        shrug = rot_z(sign * track.collar[:, side])
        shoulder = collar + apply(thorax @ shrug, offset(SHOULDER[side]))
        upper, forearm = arm_vectors(track.arms[:, side], sign)
        elbow = shoulder + rig.upper_arm(side) * apply(thorax, upper)
        wrist = elbow + rig.forearm(side) * apply(thorax, forearm)
        joints[:, COLLAR[side]], joints[:, SHOULDER[side]] = collar, shoulder
        joints[:, ELBOW[side]], joints[:, WRIST[side]] = elbow, wrist
    return joints




def fit_to_rig(joints: np.ndarray, rig: Rig) -> np.ndarray:
    """The same motion on the rig's bone lengths, feet kept where they are.

    Used for mirrors: mirroring swaps left and right bones, and the target skeleton is slightly asymmetric (up to
    9 mm). HumanML3D's retargeting would restore the lengths but scale the root path by the leg-length ratio (about
    1 %), making planted feet slide; instead every bone keeps its direction with the rig's length, the legs are
    re-solved by IK onto the original ankle positions, and the body is lowered where a leg would not reach.
    """
    joints = np.asarray(joints, dtype=np.float64)
    parents = rig.parents
    legs = set(KNEE) | set(ANKLE) | set(TOE)
    fitted = np.empty_like(joints)
    fitted[:, PELVIS] = joints[:, PELVIS]
    for joint in range(1, NUM_JOINTS):
        if joint in legs:
            continue
        parent = parents[joint]
        bone = joints[:, joint] - joints[:, parent]
        fitted[:, joint] = fitted[:, parent] + rig.lengths[joint] * bone / np.linalg.norm(bone, axis=-1, keepdims=True)
    drop = np.zeros(len(joints))
    for side in (0, 1):
        hip, ankle = fitted[:, HIP[side]], joints[:, ANKLE[side]]
        reach = LEG_REACH * rig.leg(side)
        horizontal = np.sqrt(((hip[:, [0, 2]] - ankle[:, [0, 2]]) ** 2).sum(-1))
        ceiling = ankle[:, 1] + np.sqrt(np.maximum(reach**2 - horizontal**2, 0.0))
        drop = np.maximum(drop, hip[:, 1] - ceiling)
    drop = np.maximum(gaussian(np.maximum(drop, 0.0), 1.0), drop)  # smooth, never less than needed
    upper = [j for j in range(NUM_JOINTS) if j not in legs]
    fitted[:, upper, 1] -= np.maximum(drop, 0.0)[:, None]
    for side in (0, 1):
        hip = fitted[:, HIP[side]]
        pole = joints[:, KNEE[side]] - joints[:, HIP[side]]
        knee, ankle = two_bone_ik(hip, joints[:, ANKLE[side]], rig.thigh(side), rig.shin(side), pole)
        fitted[:, KNEE[side]], fitted[:, ANKLE[side]] = knee, ankle
        fitted[:, TOE[side]] = ankle + rig.foot(side) * _foot_keeping_toe_height(joints, ankle, side, rig)
    return fitted


def _foot_keeping_toe_height(joints: np.ndarray, ankle: np.ndarray, side: int, rig: Rig) -> np.ndarray:
    """Ankle -> toe unit vectors with the original heading that put the toe at its original height (a foot of another
    length must tilt a little to keep its toe on the floor)."""
    foot = joints[:, TOE[side]] - joints[:, ANKLE[side]]
    unit = foot / np.linalg.norm(foot, axis=-1, keepdims=True)
    rise = np.clip((joints[:, TOE[side], 1] - ankle[:, 1]) / rig.foot(side), -1.0, 1.0)
    flat = np.linalg.norm(unit[:, [0, 2]], axis=-1, keepdims=True)
    heading_xz = unit[:, [0, 2]] / np.maximum(flat, 1e-9)
    tilted = np.concatenate([heading_xz[:, :1], rise[:, None], heading_xz[:, 1:]], axis=-1)
    tilted[:, [0, 2]] *= np.sqrt(1.0 - rise**2)[:, None]
    return np.where(flat > 0.2, tilted, unit)  # a near-vertical foot keeps its direction
