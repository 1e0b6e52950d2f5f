"""The action inventory of the built-in dataset and the structured description of a motion.

A motion is 1-3 segments played one after the other. Each segment is a body-part composition:
- a base action (locomotion or another whole-body/root action: walk, jump, sit down, ...) that drives the root and
  legs, with its direction/side as `variant`;
- optionally an arm action (wave, punch, ...) on the left, right or both arms;
- optionally a torso/head action (bend forward, nod, ...).
Modifiers (speed, amplitude, repetitions, turn angle) change how an action is performed but not what it is: the
composition key of a segment is "base_variant|arm_side|torso_variant" (modifiers left out), which is what the rare
split counts. Captions and animation are both generated from these descriptions, so they always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

SPEEDS = ("slow", "normal", "fast")
AMPLITUDES = ("small", "normal", "large")
POSTURES = ("stand", "sit", "kneel")
SPEED_FACTOR = {"slow": 1.35, "normal": 1.0, "fast": 0.75}  # duration multipliers
_MIRROR_VARIANT = {"left": "right", "right": "left", "clockwise": "counterclockwise", "counterclockwise": "clockwise"}

ARM_ACTIONS = (
    "wave", "raise", "punch", "clap", "reach_forward", "throw", "swing", "hand_to_mouth", "stretch_out", "cross_arms",
)
TORSO_ACTIONS = ("bend_forward", "lean", "twist", "bow", "nod", "look_around")
BASE_ACTIONS = (
    "stand", "walk", "jog", "run", "turn", "circle", "jump", "hop", "squat",
    "sit_down", "sit", "stand_up", "kneel_down", "kneel", "get_up",
)
GAIT_ACTIONS = frozenset({"walk", "jog", "run", "turn", "circle"})


@dataclass(frozen=True)
class Action:
    """One action of one body part with its modifiers."""

    name: str
    variant: str = ""  # direction (walk, turn, circle, jump, lean, twist), side (arm actions, hop, kneel) or ""
    speed: str = "normal"
    amplitude: str = "normal"
    reps: int = 1
    angle: int = 0  # turns only: 90 or 180 degrees

    @property
    def key(self) -> str:
        return f"{self.name}_{self.variant}" if self.variant else self.name

    def mirrored(self) -> "Action":
        return replace(self, variant=_MIRROR_VARIANT.get(self.variant, self.variant))

    def to_dict(self) -> dict:
        data = {"action": self.name}
        if self.variant:
            data["variant"] = self.variant
        data["speed"] = self.speed
        data["amplitude"] = self.amplitude
        data["reps"] = self.reps
        if self.angle:
            data["angle"] = self.angle
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Action":
        return cls(
            name=data["action"], variant=data.get("variant", ""), speed=data.get("speed", "normal"),
            amplitude=data.get("amplitude", "normal"), reps=int(data.get("reps", 1)), angle=int(data.get("angle", 0)),
        )


@dataclass(frozen=True)
class Segment:
    """What the body does during one stretch of time; `duration` in seconds."""

    base: Action
    arm: Action | None = None
    torso: Action | None = None
    duration: float = 0.0
    arm_span: tuple[float, float] = (0.0, 0.0)  # when the arm action runs, seconds from the segment start
    torso_span: tuple[float, float] = (0.0, 0.0)

    @property
    def key(self) -> str:
        return composition_key(self.base, self.arm, self.torso)

    def mirrored(self) -> "Segment":
        return replace(
            self,
            base=self.base.mirrored(),
            arm=self.arm.mirrored() if self.arm else None,
            torso=self.torso.mirrored() if self.torso else None,
        )

    def to_dict(self) -> dict:
        data = {
            "key": self.key,
            "duration": round(self.duration, 3),
            "base": self.base.to_dict(),
            "arm": self.arm.to_dict() if self.arm else None,
            "torso": self.torso.to_dict() if self.torso else None,
        }
        if self.arm:
            data["arm_span"] = [round(x, 3) for x in self.arm_span]
        if self.torso:
            data["torso_span"] = [round(x, 3) for x in self.torso_span]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Segment":
        return cls(
            Action.from_dict(data["base"]),
            Action.from_dict(data["arm"]) if data.get("arm") else None,
            Action.from_dict(data["torso"]) if data.get("torso") else None,
            float(data.get("duration", 0.0)),
            tuple(data.get("arm_span", (0.0, 0.0))),
            tuple(data.get("torso_span", (0.0, 0.0))),
        )


@dataclass(frozen=True)
class MotionSpec:
    """A whole motion: segments in order."""

    segments: tuple[Segment, ...] = field(default_factory=tuple)

    @property
    def keys(self) -> list[str]:
        return [s.key for s in self.segments]

    @property
    def duration(self) -> float:
        return float(sum(s.duration for s in self.segments))

    def mirrored(self) -> "MotionSpec":
        return MotionSpec(tuple(s.mirrored() for s in self.segments))

    def to_dict(self) -> dict:
        return {"segments": [s.to_dict() for s in self.segments]}

    @classmethod
    def from_dict(cls, data: dict) -> "MotionSpec":
        return cls(tuple(Segment.from_dict(s) for s in data["segments"]))


def composition_key(base: Action, arm: Action | None, torso: Action | None) -> str:
    return f"{base.key}|{arm.key if arm else '-'}|{torso.key if torso else '-'}"


# ------------------------------------------------------------------------------------------------- inventory
@dataclass(frozen=True)
class ActionInfo:
    """What an action allows: variants with plausibility weights, modifiers, and (base actions) what it combines with.

    The weights only rank compositions from common to rare (compose.py); they are not probabilities.
    """

    name: str
    variants: dict[str, float]  # variant -> plausibility weight ("" when the action has no variant)
    speeds: tuple[str, ...] = ("normal",)
    amplitudes: tuple[str, ...] = ("normal",)
    reps: tuple[int, int] = (1, 1)
    posture: tuple[str, str] = ("stand", "stand")  # base actions: posture before -> after
    arms: frozenset[str] = frozenset()  # base actions: arm actions it combines with
    torsos: frozenset[str] = frozenset()  # base actions: torso actions it combines with
    bare: float = 1.0  # base actions: weight of the base alone (no arm, no torso action)
    arm_factor: float = 1.0  # base actions: how readily arm actions combine with it


_ALL_ARMS = frozenset(ARM_ACTIONS)
_LOCO_ARMS = frozenset({"wave", "raise", "clap", "hand_to_mouth", "stretch_out", "cross_arms"})

BASE_INFO: dict[str, ActionInfo] = {
    info.name: info
    for info in (
        ActionInfo("stand", {"": 1.0}, arms=_ALL_ARMS, torsos=frozenset(TORSO_ACTIONS), bare=0.05),
        ActionInfo(
            "walk", {"forward": 1.0, "backward": 0.45, "left": 0.3, "right": 0.3}, speeds=SPEEDS,
            arms=_LOCO_ARMS | {"reach_forward", "swing", "punch", "throw"}, torsos=frozenset({"nod", "look_around"}),
            bare=1.6, arm_factor=0.8,
        ),
        ActionInfo("jog", {"": 0.7}, arms=frozenset({"wave", "raise", "punch", "hand_to_mouth", "stretch_out", "clap"}),
                   torsos=frozenset({"look_around"}), bare=1.0, arm_factor=0.5),
        ActionInfo("run", {"": 0.75}, speeds=("normal", "fast"), arms=frozenset({"raise", "stretch_out", "wave"}),
                   bare=1.0, arm_factor=0.4),
        ActionInfo("turn", {"left": 0.6, "right": 0.6}, speeds=SPEEDS,
                   arms=frozenset({"wave", "raise", "stretch_out", "cross_arms", "hand_to_mouth"}), bare=1.3,
                   arm_factor=0.6),
        ActionInfo("circle", {"clockwise": 0.45, "counterclockwise": 0.45}, speeds=SPEEDS,
                   arms=_LOCO_ARMS, torsos=frozenset({"look_around"}), bare=1.4, arm_factor=0.6),
        ActionInfo("jump", {"in_place": 0.7, "forward": 0.55}, amplitudes=AMPLITUDES, reps=(1, 3),
                   arms=frozenset({"raise", "clap", "stretch_out", "cross_arms"}), bare=1.2, arm_factor=0.5),
        ActionInfo("hop", {"left": 0.35, "right": 0.35}, reps=(2, 5),
                   arms=frozenset({"stretch_out", "raise", "cross_arms", "wave"}), bare=1.4, arm_factor=0.5),
        ActionInfo("squat", {"": 0.55}, speeds=SPEEDS, amplitudes=AMPLITUDES, reps=(1, 3),
                   arms=frozenset({"reach_forward", "stretch_out", "cross_arms", "raise", "clap"}), bare=1.4,
                   arm_factor=0.6),
        ActionInfo("sit_down", {"": 0.6}, speeds=SPEEDS, posture=("stand", "sit")),
        ActionInfo("sit", {"": 0.5}, posture=("sit", "sit"), arms=_ALL_ARMS - {"swing"},
                   torsos=frozenset({"nod", "look_around", "lean", "twist", "bow"}), bare=0.3),
        ActionInfo("stand_up", {"": 0.6}, speeds=SPEEDS, posture=("sit", "stand")),
        ActionInfo("kneel_down", {"left": 0.3, "right": 0.35}, posture=("stand", "kneel")),
        ActionInfo("kneel", {"left": 0.3, "right": 0.35}, posture=("kneel", "kneel"),
                   arms=frozenset({"wave", "raise", "reach_forward", "clap", "hand_to_mouth", "stretch_out",
                                   "cross_arms", "throw"}),
                   torsos=frozenset({"nod", "look_around", "bow"}), bare=0.3),
        ActionInfo("get_up", {"left": 0.3, "right": 0.35}, posture=("kneel", "stand")),
    )
}

_SIDES = {"right": 1.0, "left": 0.75, "both": 0.8}
ARM_INFO: dict[str, ActionInfo] = {
    info.name: info
    for info in (
        ActionInfo("wave", {s: 1.0 * w for s, w in _SIDES.items()}, speeds=SPEEDS, amplitudes=AMPLITUDES),
        ActionInfo("raise", {s: 0.9 * w for s, w in _SIDES.items()}, speeds=SPEEDS, amplitudes=AMPLITUDES, reps=(1, 2)),
        ActionInfo("punch", {s: 0.6 * w for s, w in _SIDES.items()}, speeds=SPEEDS, reps=(1, 5)),
        ActionInfo("clap", {"both": 0.75}, speeds=SPEEDS, reps=(2, 6)),
        ActionInfo("reach_forward", {s: 0.5 * w for s, w in _SIDES.items()}, speeds=SPEEDS),
        ActionInfo("throw", {"right": 0.5, "left": 0.35, "both": 0.25}, speeds=SPEEDS, reps=(1, 2)),
        ActionInfo("swing", {s: 0.4 * w for s, w in _SIDES.items()}, speeds=SPEEDS, amplitudes=AMPLITUDES, reps=(2, 4)),
        ActionInfo("hand_to_mouth", {"right": 0.6, "left": 0.45, "both": 0.15}, speeds=SPEEDS, reps=(1, 2)),
        ActionInfo("stretch_out", {s: 0.55 * w for s, w in _SIDES.items()}, speeds=SPEEDS),
        ActionInfo("cross_arms", {"both": 0.5}, speeds=SPEEDS),
    )
}

TORSO_INFO: dict[str, ActionInfo] = {
    info.name: info
    for info in (
        ActionInfo("bend_forward", {"": 0.7}, speeds=SPEEDS, amplitudes=AMPLITUDES, reps=(1, 2)),
        ActionInfo("lean", {"left": 0.45, "right": 0.45}, speeds=SPEEDS, amplitudes=AMPLITUDES),
        ActionInfo("twist", {"left": 0.35, "right": 0.35}, speeds=SPEEDS, amplitudes=AMPLITUDES, reps=(1, 2)),
        ActionInfo("bow", {"": 0.6}, speeds=SPEEDS, amplitudes=AMPLITUDES, reps=(1, 2)),
        ActionInfo("nod", {"": 0.55}, speeds=SPEEDS, reps=(2, 4)),
        ActionInfo("look_around", {"": 0.55}, speeds=SPEEDS),
    )
}

# Arm and torso actions that may share one segment (e.g. lean left with the right arm raised overhead).
ARM_WITH_TORSO = {
    "raise": frozenset({"lean", "twist", "nod", "look_around"}),
    "stretch_out": frozenset({"lean", "twist", "look_around"}),
    "cross_arms": frozenset({"nod", "look_around", "bow", "twist", "lean"}),
    "hand_to_mouth": frozenset({"look_around", "nod"}),
    "wave": frozenset({"nod", "look_around"}),
    "clap": frozenset({"nod"}),
}



# ------------------------------------------------------------------------------------------------- durations
def _u(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def base_duration(action: Action, rng: np.random.Generator) -> float:
    """Natural duration (s) of a base action with its modifiers."""
    speed = SPEED_FACTOR[action.speed]
    name = action.name
    if name == "stand":
        return _u(rng, 1.2, 2.5)
    if name == "walk":
        return _u(rng, 2.6, 4.5) * (1.1 if action.speed == "slow" else 1.0)
    if name == "jog":
        return _u(rng, 2.5, 4.0)
    if name == "run":
        return _u(rng, 2.2, 3.5)
    if name == "turn":
        return (_u(rng, 1.3, 1.8) if action.angle == 90 else _u(rng, 1.9, 2.6)) * speed
    if name == "circle":
        return min(_u(rng, 5.5, 7.5) * (1.15 if action.speed == "slow" else 0.9 if action.speed == "fast" else 1.0), 9.0)
    if name == "jump":
        return 0.3 + action.reps * _u(rng, 1.15, 1.35) + 0.45
    if name == "hop":
        return 0.8 + action.reps * _u(rng, 0.48, 0.56) + 0.8
    if name == "squat":
        return 0.3 + action.reps * _u(rng, 1.9, 2.4) * speed + 0.2
    if name in ("sit_down", "stand_up"):
        return _u(rng, 2.0, 2.6) * speed
    if name in ("kneel_down", "get_up"):
        return _u(rng, 2.4, 3.0)
    if name in ("sit", "kneel"):
        return _u(rng, 1.5, 3.0)
    raise ValueError(f"unknown base action {name}")


def arm_duration(action: Action, rng: np.random.Generator) -> float:
    """Natural duration (s) of an arm action, including raising the arm into it and lowering it after."""
    speed = SPEED_FACTOR[action.speed]
    name = action.name
    if name == "wave":
        return 1.0 * speed + rng.integers(4, 8) * _u(rng, 0.28, 0.38) * speed
    if name == "raise":
        return action.reps * (1.2 + _u(rng, 0.6, 1.3)) * speed
    if name == "punch":
        return (0.9 + action.reps * 0.55) * speed
    if name == "clap":
        return (0.9 + action.reps * 0.42) * speed
    if name == "reach_forward":
        return (1.6 + _u(rng, 0.8, 1.5)) * speed
    if name == "throw":
        return action.reps * _u(rng, 1.5, 1.8) * speed
    if name == "swing":
        return (0.6 + action.reps * _u(rng, 0.9, 1.1)) * speed
    if name == "hand_to_mouth":
        return action.reps * (1.4 + _u(rng, 0.6, 1.1)) * speed
    if name == "stretch_out":
        return (1.6 + _u(rng, 1.0, 2.0)) * speed
    if name == "cross_arms":
        return (1.8 + _u(rng, 1.2, 2.4)) * speed
    raise ValueError(f"unknown arm action {name}")


def torso_duration(action: Action, rng: np.random.Generator) -> float:
    speed = SPEED_FACTOR[action.speed]
    name = action.name
    if name == "bend_forward":
        return action.reps * (2.0 + _u(rng, 0.5, 1.2)) * speed
    if name == "lean":
        return (1.6 + _u(rng, 0.8, 1.5)) * speed
    if name == "twist":
        return action.reps * (1.6 + _u(rng, 0.3, 0.6)) * speed
    if name == "bow":
        return action.reps * (1.5 + _u(rng, 0.4, 0.8)) * speed
    if name == "nod":
        return (0.5 + action.reps * 0.55) * speed
    if name == "look_around":
        return _u(rng, 3.0, 4.2) * speed
    raise ValueError(f"unknown torso action {name}")


# Arm actions whose length is not captioned (no count) stretch to fill a longer segment.
STRETCHABLE_ARMS = frozenset({"wave", "raise", "reach_forward", "stretch_out", "cross_arms", "hand_to_mouth"})
STRETCHABLE_TORSOS = frozenset({"lean", "look_around"})
