"""Arm actions (wave, raise, punch, clap, reach forward, throw, swing, hand to mouth, stretch out, cross arms) and
torso/head actions (bend forward, lean, twist, bow, nod, look around) as overlays on the base motion.

An overlay gives target arm pose parameters with a blend weight per arm (eased in and out over 0.3-0.9 s), and
additive spine / neck / collar / pelvis offsets. Arm poses that must reach a place (a fist in front, the hand at the
mouth, the hands meeting in a clap) are solved once by arm IK from wrist targets relative to the shoulder.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .actions import SPEED_FACTOR, Action
from .curves import ease, keyframes, window
from .pose import arm_params_for_wrist
from .rig import SIDE_SIGN, Rig
from .track import HANG

D = np.deg2rad

# Wrist targets relative to the shoulder in the thorax frame, left-arm coordinates (+x outwards), with elbow poles.
_WRIST_TARGETS = {
    "punch_guard": ((-0.10, 0.02, 0.17), (0.3, -1.0, -0.2)),
    "punch_out": ((-0.12, 0.04, 0.47), (0.3, -1.0, -0.1)),
    "clap_open": ((-0.04, -0.13, 0.33), (1.0, -0.6, -0.3)),
    "clap_closed": ((-0.175, -0.11, 0.35), (1.0, -0.6, -0.3)),
    "reach": ((-0.07, -0.02, 0.50), (0.3, -1.0, 0.0)),
    "mouth": ((-0.18, 0.07, 0.19), (0.5, -1.0, 0.0)),
    "cross_left": ((-0.36, -0.21, 0.19), (0.2, -1.0, 0.1)),
    "cross_right": ((-0.36, -0.16, 0.22), (0.2, -1.0, 0.1)),
    "throw_windup": ((0.12, 0.20, -0.14), (1.0, -0.3, -0.4)),
    "throw_release": ((-0.05, 0.28, 0.38), (0.6, -0.6, -0.3)),
    "throw_follow": ((-0.30, -0.32, 0.28), (0.6, -1.0, 0.0)),
    "two_hand_windup": ((-0.12, 0.34, -0.10), (0.8, 0.2, -0.6)),
    "two_hand_release": ((-0.10, 0.22, 0.44), (0.8, -0.5, -0.2)),
    "two_hand_follow": ((-0.10, -0.22, 0.43), (0.6, -1.0, 0.0)),
}


@lru_cache(maxsize=4)
def _poses(rig: Rig) -> dict[str, np.ndarray]:
    """name -> (2, 4) pose parameters for the left and right arm."""
    return {
        name: np.stack([arm_params_for_wrist(rig, side, np.array(w), np.array(p)) for side in (0, 1)])
        for name, (w, p) in _WRIST_TARGETS.items()
    }


def _pose(rig: Rig, name: str, side: int) -> np.ndarray:
    return _poses(rig)[name][side]


@dataclass
class Overlay:
    arms: np.ndarray  # (n, 2, 4) target arm parameters
    weight: np.ndarray  # (n, 2) blend weight of the targets
    spine: np.ndarray  # (n, 3) added pitch, roll, yaw
    neck: np.ndarray  # (n, 3)
    collar: np.ndarray  # (n, 2)
    pelvis_pitch: np.ndarray  # (n,)
    pelvis_shift: np.ndarray  # (n, 2) body-frame (left, forward) metres

    @classmethod
    def empty(cls, n: int) -> "Overlay":
        return cls(
            arms=np.repeat(np.repeat(HANG[None, None], 2, 1), n, 0).astype(np.float64),
            weight=np.zeros((n, 2)),
            spine=np.zeros((n, 3)),
            neck=np.zeros((n, 3)),
            collar=np.zeros((n, 2)),
            pelvis_pitch=np.zeros(n),
            pelvis_shift=np.zeros((n, 2)),
        )


def arm_sides(action: Action) -> list[int]:
    return {"left": [0], "right": [1]}.get(action.variant, [0, 1])


def _set(overlay: Overlay, side: int, params: np.ndarray, weight: np.ndarray) -> None:
    overlay.arms[:, side] = params
    overlay.weight[:, side] = np.maximum(overlay.weight[:, side], weight)


def arm_overlay(action: Action, n: int, rig: Rig, rng: np.random.Generator, fps: float) -> Overlay:
    """The overlay of one arm action lasting n frames."""
    overlay = Overlay.empty(n)
    t = np.arange(n) / fps
    T = n / fps
    sp = SPEED_FACTOR[action.speed]
    sides = arm_sides(action)
    name = action.name
    amp = action.amplitude

    if name == "wave":
        rise = min(0.55 * sp, T / 4)
        weight = window(t, 0.0, T, rise, rise)
        period = 0.33 * sp * rng.uniform(0.9, 1.1)
        swing = D({"small": 15, "normal": 22, "large": 32}[amp])
        elevation = D({"small": 88, "normal": 100, "large": 115}[amp] + rng.uniform(-5, 5))
        azimuth = D(rng.uniform(55, 80))
        oscillation = np.sin(2 * np.pi * (t - rise) / period) * ramp_between(t, rise * 0.6, rise * 1.2)
        for side in sides:
            params = np.zeros((n, 4))
            params[:, 0] = azimuth + D(6) * oscillation
            params[:, 1] = elevation
            params[:, 2] = D(95) + swing * oscillation
            params[:, 3] = D(-10)
            _set(overlay, side, params, weight)
            overlay.collar[:, side] += D(8) * weight

    elif name == "raise":
        target = {"small": D([10, 88, 6, 0]), "normal": D([18, 160, 8, 0]), "large": D([12, 176, 4, 0])}[amp]
        target = target + D(np.array([rng.uniform(-8, 12), rng.uniform(-4, 2), 0, 0]))
        weight = _repeated_holds(t, T, action.reps, 0.6 * sp)
        for side in sides:
            _set(overlay, side, np.repeat(target[None], n, 0), weight)
            overlay.collar[:, side] += D(14 if amp != "small" else 4) * weight

    elif name == "punch":
        ready = min(0.4 * sp, T / 4)
        weight = window(t, 0.0, T, ready, ready)
        hits = np.linspace(ready + 0.1, T - ready - 0.35 * sp, action.reps) if action.reps > 1 else [T / 2 - 0.15]
        order = [1, 0] if sides == [0, 1] else sides
        for side in sides:
            guard, out = _pose(rig, "punch_guard", side), _pose(rig, "punch_out", side)
            extension = np.zeros(n)
            for k, hit in enumerate(hits):
                if order[k % len(order)] != side:
                    continue
                pulse = keyframes(t, [hit, hit + 0.13 * sp, hit + 0.35 * sp], [0.0, 1.0, 0.0])
                extension = np.maximum(extension, pulse * ((t >= hit) & (t <= hit + 0.35 * sp)))
                overlay.spine[:, 2] += -SIDE_SIGN[side] * D(12) * pulse * ((t >= hit) & (t <= hit + 0.35 * sp))
            params = guard[None] * (1 - extension[:, None]) + out[None] * extension[:, None]
            _set(overlay, side, params, weight)

    elif name == "clap":
        ready = min(0.45 * sp, T / 4)
        weight = window(t, 0.0, T, ready, ready)
        period = (T - 2 * ready) / max(action.reps, 1)
        phase = np.clip((t - ready) / period, 0, action.reps)
        closed = np.sin(np.pi * (phase % 1.0)) ** 2 * (t > ready) * (t < T - ready)
        for side in (0, 1):
            params = _pose(rig, "clap_open", side)[None] * (1 - closed[:, None]) + _pose(rig, "clap_closed", side)[None] * closed[:, None]
            _set(overlay, side, params, weight)

    elif name == "reach_forward":
        go = min(0.75 * sp, T / 3)
        weight = window(t, 0.0, T, go, go)
        for side in sides:
            _set(overlay, side, np.repeat(_pose(rig, "reach", side)[None], n, 0), weight)
            overlay.collar[:, side] += D(5) * weight
        overlay.spine[:, 0] += D(10) * weight
        if len(sides) == 1:
            overlay.spine[:, 2] += -SIDE_SIGN[sides[0]] * D(10) * weight

    elif name == "throw":
        period = T / action.reps
        for side in sides:
            two = len(sides) == 2
            names = ("two_hand_windup", "two_hand_release", "two_hand_follow") if two else (
                "throw_windup", "throw_release", "throw_follow")
            windup, release, follow = (_pose(rig, k, side) for k in names)
            params = np.repeat(HANG[None], n, 0).astype(np.float64)
            for rep in range(action.reps):
                start = rep * period
                keys = [start, start + 0.2 * period, start + 0.42 * period, start + 0.55 * period,
                        start + 0.68 * period, start + period]
                # The arm swings back and up into the wind-up (not through the front), then whips over.
                back = D([170, 35, 25, 0]) if not two else D([0, 100, 60, 0])
                local = keyframes(t, keys, [HANG, back, windup, release, follow, HANG])
                inside = (t >= start) & (t <= start + period)
                params[inside] = local[inside]
                if two:
                    twist = keyframes(t, keys, [0, -4, -12, 5, 22, 0])
                    overlay.spine[:, 0] += D(twist) * inside / len(sides)
                else:
                    twist = keyframes(t, keys, [0, 15, 28, 0, -22, 0]) * SIDE_SIGN[side]
                    overlay.spine[:, 2] += D(twist) * inside
            _set(overlay, side, params, window(t, 0.0, T, 0.15, 0.15))

    elif name == "swing":
        edge = min(0.3 * sp, T / 4)
        weight = window(t, 0.0, T, edge, edge)
        period = (T - 2 * edge) / action.reps
        amplitude = D({"small": 30, "normal": 50, "large": 72}[amp])
        together = rng.random() < 0.5
        for side in sides:
            offset = 0.5 if (len(sides) == 2 and not together and side == 1) else 0.0
            params = np.repeat(HANG[None], n, 0).astype(np.float64)
            wave = np.sin(2 * np.pi * ((t - edge) / period + offset)) * (t > edge) * (t < T - edge)
            params[:, 1] = D(8) + amplitude * wave
            params[:, 2] = D(15) + D(10) * np.maximum(wave, 0)
            _set(overlay, side, params, weight)

    elif name == "hand_to_mouth":
        weight = _repeated_holds(t, T, action.reps, 0.7 * sp)
        for side in sides:
            _set(overlay, side, np.repeat(_pose(rig, "mouth", side)[None], n, 0), weight)
        overlay.neck[:, 0] += -D(8) * weight ** 3  # tip the head back a little to drink

    elif name == "stretch_out":
        go = min(0.8 * sp, T / 3)
        weight = window(t, 0.0, T, go, go)
        target = D([90, 90, 3, 0]) + D(np.array([rng.uniform(-10, 5), rng.uniform(-6, 6), 0, 0]))
        for side in sides:
            _set(overlay, side, np.repeat(target[None], n, 0), weight)

    elif name == "cross_arms":
        go = min(0.9 * sp, T / 3)
        weight = window(t, 0.0, T, go, go)
        for side, pose in ((0, "cross_left"), (1, "cross_right")):
            _set(overlay, side, np.repeat(_pose(rig, pose, side)[None], n, 0), weight)

    else:
        raise ValueError(f"unknown arm action {name}")
    return overlay


def torso_overlay(action: Action, n: int, rig: Rig, rng: np.random.Generator, fps: float) -> Overlay:
    """The overlay of one torso/head action lasting n frames."""
    overlay = Overlay.empty(n)
    t = np.arange(n) / fps
    T = n / fps
    sp = SPEED_FACTOR[action.speed]
    name = action.name
    amp = action.amplitude
    sign = 1.0 if action.variant == "left" else -1.0

    if name in ("bend_forward", "bow"):
        total = D({"small": 35, "normal": 60, "large": 85}[amp]) if name == "bend_forward" else D(
            {"small": 18, "normal": 32, "large": 48}[amp])
        go = (0.95 if name == "bend_forward" else 0.6) * sp
        bend = _repeated_holds(t, T, action.reps, go)
        overlay.pelvis_pitch += 0.45 * total * bend
        overlay.spine[:, 0] += 0.55 * total * bend
        overlay.neck[:, 0] += (0.15 * total if name == "bow" else -0.2 * total) * bend
        overlay.pelvis_shift[:, 1] -= 0.12 * (total / D(60)) * bend

    elif name == "lean":
        angle = D({"small": 12, "normal": 22, "large": 30}[amp])
        go = min(0.8 * sp, T / 3)
        lean = window(t, 0.0, T, go, go)
        overlay.spine[:, 1] += -sign * angle * lean  # positive roll tilts to the right
        overlay.neck[:, 1] += sign * 0.3 * angle * lean
        overlay.pelvis_shift[:, 0] -= sign * 0.035 * lean

    elif name == "twist":
        angle = D({"small": 25, "normal": 40, "large": 55}[amp])
        twist = _repeated_holds(t, T, action.reps, 0.75 * sp)
        overlay.spine[:, 2] += sign * angle * twist
        overlay.neck[:, 2] += sign * 0.3 * angle * twist

    elif name == "nod":
        start, end = 0.2, T - 0.15
        period = (end - start) / action.reps
        phase = np.clip((t - start) / period, 0, action.reps)
        nods = np.sin(np.pi * (phase % 1.0)) ** 2 * (t > start) * (t < end)
        overlay.neck[:, 0] += D(rng.uniform(22, 30)) * nods - D(3) * window(t, start, end, 0.2)

    elif name == "look_around":
        first = 1.0 if rng.random() < 0.5 else -1.0
        angle = D(rng.uniform(55, 70))
        keys = np.array([0.0, 0.18, 0.38, 0.62, 0.82, 1.0]) * T
        yaw = keyframes(t, keys, [0.0, first * angle, first * angle, -first * angle, -first * angle, 0.0])
        overlay.neck[:, 2] += yaw
        overlay.spine[:, 2] += 0.25 * yaw
        overlay.neck[:, 0] += D(rng.uniform(-6, 4)) * np.abs(yaw) / angle

    else:
        raise ValueError(f"unknown torso action {name}")
    return overlay


def ramp_between(t: np.ndarray, start: float, end: float) -> np.ndarray:
    return ease((t - start) / max(end - start, 1e-6))


def _repeated_holds(t: np.ndarray, total: float, reps: int, go: float) -> np.ndarray:
    """A weight going 0 -> 1 (hold) -> 0, `reps` times evenly over [0, total]."""
    period = total / reps
    go = min(go, period / 3)
    weight = np.zeros_like(t)
    for rep in range(reps):
        weight = np.maximum(weight, window(t, rep * period, (rep + 1) * period, go, go))
    return weight
