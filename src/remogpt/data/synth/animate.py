"""A structured motion description -> joint positions on the rig.

Base actions are generated one after the other, each starting from the last frame of the one before (consecutive
locomotion segments form one continuous gait) and blended in over ~0.45 s. Arm and torso actions are then laid over
their spans with their own eased blend weights; idle arms keep hanging under gravity when the trunk bends. A little
smooth noise makes every motion different. Finally pose.py turns the channels into joints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .actions import GAIT_ACTIONS, MotionSpec
from .curves import smooth_noise
from .gait import gait
from .lower import GENERATORS, standing_state
from .pose import track_to_joints
from .rig import Rig, default_rig, heading, lateral
from .track import Track
from .upper import Overlay, arm_overlay, torso_overlay

FPS = 20.0


@dataclass
class Animation:
    joints: np.ndarray  # (T, 22, 3) float64
    track: Track
    segment_frames: list[tuple[int, int]]  # [start, end) of each segment


def segment_frame_counts(spec: MotionSpec, fps: float = FPS) -> list[int]:
    counts = [max(int(round(s.duration * fps)), 2) for s in spec.segments]
    counts[-1] += 1  # one more frame: features consume one (T joints -> T - 1 feature frames)
    return counts


def base_track(spec: MotionSpec, rig: Rig, rng: np.random.Generator, fps: float) -> tuple[Track, list[tuple[int, int]]]:
    counts = segment_frame_counts(spec, fps)
    state = standing_state(np.zeros(3), 0.0, rig)
    tracks: list[Track] = []
    spans: list[tuple[int, int]] = []
    start = 0
    index = 0
    segments = spec.segments
    while index < len(segments):
        if segments[index].base.name in GAIT_ACTIONS:
            group = []
            while index < len(segments) and segments[index].base.name in GAIT_ACTIONS:
                group.append((segments[index].base, counts[index]))
                spans.append((start, start + counts[index]))
                start += counts[index]
                index += 1
            track = gait(group, state, rig, rng, fps)
        else:
            segment = segments[index]
            track = GENERATORS[segment.base.name](segment.base, counts[index], state, rig, rng, fps)
            spans.append((start, start + counts[index]))
            start += counts[index]
            index += 1
        track.settle_from(state, fps)
        tracks.append(track)
        state = track.frame(-1)
    return Track.concat(tracks), spans


def _apply(track: Track, overlay: Overlay, start: int, gravity_arms: bool = False) -> None:
    piece = slice(start, start + len(overlay.weight))
    weight = overlay.weight[..., None]
    track.arms[piece] = track.arms[piece] * (1 - weight) + overlay.arms * weight
    track.spine[piece] += overlay.spine
    track.neck[piece] += overlay.neck
    track.collar[piece] += overlay.collar
    track.pelvis_pitch[piece] += overlay.pelvis_pitch
    yaw = track.yaw[piece]
    track.pelvis[piece] += overlay.pelvis_shift[:, :1] * lateral(yaw) + overlay.pelvis_shift[:, 1:] * heading(yaw)


def animate(spec: MotionSpec, rng: np.random.Generator, rig: Rig | None = None, fps: float = FPS) -> Animation:
    rig = rig or default_rig()
    track, spans = base_track(spec, rig, rng, fps)
    arm_weight = np.zeros((track.n, 2))
    for segment, (start, _) in zip(spec.segments, spans):
        if segment.arm is not None:
            a0 = start + int(round(segment.arm_span[0] * fps))
            a1 = start + int(round(segment.arm_span[1] * fps))
            overlay = arm_overlay(segment.arm, a1 - a0, rig, rng, fps)
            _apply(track, overlay, a0)
            arm_weight[a0:a1] = np.maximum(arm_weight[a0:a1], overlay.weight)
    for segment, (start, _) in zip(spec.segments, spans):
        if segment.torso is not None:
            t0 = start + int(round(segment.torso_span[0] * fps))
            t1 = start + int(round(segment.torso_span[1] * fps))
            overlay = torso_overlay(segment.torso, t1 - t0, rig, rng, fps)
            _apply(track, overlay, t0)
            # Arms that do nothing keep hanging under gravity while the trunk tilts.
            tilt = overlay.pelvis_pitch + overlay.spine[:, 0]
            track.arms[t0:t1, :, 1] += (1 - arm_weight[t0:t1]) * tilt[:, None]
    noise = smooth_noise(rng, track.n, fps, 11, max_hz=0.5)
    track.spine += np.deg2rad([1.5, 1.0, 2.0]) * noise[:, 0:3]
    track.neck += np.deg2rad([3.0, 1.5, 4.0]) * noise[:, 3:6]
    idle = (1 - 0.7 * arm_weight)[..., None]
    track.arms[..., :3] += np.deg2rad([4.0, 3.0, 5.0]) * noise[:, None, 6:9] * np.array([1.0, -1.0])[None, :, None] * idle
    track.collar += np.deg2rad(1.5) * noise[:, 9:11]
    joints = track_to_joints(track, rig)
    return Animation(joints=joints, track=track, segment_frames=spans)
