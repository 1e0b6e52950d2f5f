"""Per-frame animation channels of the whole body, before they are turned into joint positions (pose.py).

The lower body is described by where things are (pelvis position, planted or swinging ankle targets, foot pitch),
the upper body by angles (spine and neck rotations, arm pose parameters); see pose.py for their meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .curves import ease

# Arm pose parameters (radians): azimuth of the elevation plane (0 = forward, pi/2 = out to the side), elevation
# from hanging (pi/2 = horizontal, pi = overhead, negative = backwards), elbow flexion, humeral rotation (positive
# turns the forearm towards the body's midline).
HANG = np.deg2rad([0.0, 4.0, 14.0, 20.0])

# Channels that must be continuous across segment boundaries (the feet are continuous by construction).
CONTINUOUS = ("pelvis", "yaw", "pelvis_pitch", "pelvis_roll", "spine", "neck", "arms", "collar")


@dataclass
class Track:
    pelvis: np.ndarray  # (n, 3) pelvis joint position (y is a target: legs may lower it to keep feet reachable)
    yaw: np.ndarray  # (n,) body heading
    pelvis_pitch: np.ndarray  # (n,)
    pelvis_roll: np.ndarray  # (n,)
    ankle: np.ndarray  # (n, 2, 3) ankle targets, [left, right]
    foot_yaw: np.ndarray  # (n, 2)
    foot_pitch: np.ndarray  # (n, 2) relative to the flat foot, positive lifts the toe
    contact: np.ndarray  # (n, 2) bool, foot on the ground
    spine: np.ndarray  # (n, 3) total spine pitch, roll, yaw relative to the pelvis
    neck: np.ndarray  # (n, 3) neck pitch, roll, yaw relative to the thorax
    arms: np.ndarray  # (n, 2, 4) arm pose parameters, [left, right]
    collar: np.ndarray  # (n, 2) shoulder shrug (radians, positive lifts the shoulder)

    @property
    def n(self) -> int:
        return len(self.yaw)

    @classmethod
    def hold(cls, state: "Track", n: int) -> "Track":
        """n frames repeating the (last) frame of `state`."""
        last = state.frame(-1)
        return cls(**{f.name: np.repeat(getattr(last, f.name), n, axis=0) for f in fields(cls)})

    def frame(self, index: int) -> "Track":
        index = index % self.n
        return Track(**{f.name: getattr(self, f.name)[index : index + 1].copy() for f in fields(self)})

    def copy(self) -> "Track":
        return Track(**{f.name: getattr(self, f.name).copy() for f in fields(self)})

    def reversed(self) -> "Track":
        return Track(**{f.name: getattr(self, f.name)[::-1].copy() for f in fields(self)})

    @staticmethod
    def concat(tracks: list["Track"]) -> "Track":
        return Track(**{f.name: np.concatenate([getattr(t, f.name) for t in tracks], axis=0) for f in fields(Track)})

    def settle_from(self, state: "Track", fps: float, seconds: float = 0.45) -> None:
        """Blend the continuous channels in from `state`'s last frame so the segment boundary has no jump."""
        t = np.arange(self.n) / fps
        fade = 1.0 - ease(t / seconds)
        last = state.frame(-1)
        for name in CONTINUOUS:
            mine = getattr(self, name)
            delta = getattr(last, name)[0] - mine[0]
            if name == "yaw":
                delta = (delta + np.pi) % (2 * np.pi) - np.pi
            mine += delta * fade.reshape((-1,) + (1,) * (mine.ndim - 1))


def standing_track(n: int, pelvis: np.ndarray, yaw: float, ankles: np.ndarray, foot_yaws: np.ndarray) -> Track:
    """A neutral standing pose held for n frames (flat feet, arms hanging)."""
    return Track(
        pelvis=np.repeat(np.asarray(pelvis, dtype=np.float64)[None], n, 0),
        yaw=np.full(n, float(yaw)),
        pelvis_pitch=np.zeros(n),
        pelvis_roll=np.zeros(n),
        ankle=np.repeat(np.asarray(ankles, dtype=np.float64)[None], n, 0),
        foot_yaw=np.repeat(np.asarray(foot_yaws, dtype=np.float64)[None], n, 0),
        foot_pitch=np.zeros((n, 2)),
        contact=np.ones((n, 2), dtype=bool),
        spine=np.zeros((n, 3)),
        neck=np.zeros((n, 3)),
        arms=np.repeat(np.repeat(HANG[None, None], 2, 1), n, 0),
        collar=np.zeros((n, 2)),
    )
