"""Sampling motion descriptions with a long tail of body-part compositions.

Every valid segment composition (base action + variant, optional arm action + side, optional torso action +
variant; combinations allowed by the inventory) gets a plausibility score: the product of the inventory weights
(actions.py). Compositions are ranked by that score once, independently of the seed, and a segment's composition is
drawn with a Zipf-like probability p(rank) ~ 1 / (rank + ZIPF_OFFSET) ** ZIPF_EXPONENT among those valid in the
current posture (standing / seated / kneeling on a given knee). Common things (walking, waving while standing) are
frequent; odd combinations (hopping with arms crossed, throwing while kneeling) are seen a handful of times.

A motion has 1-3 segments (probabilities SEGMENT_COUNTS), never the same composition twice in a row, fits in
MIN_SECONDS..MAX_SECONDS, and may end seated or kneeling. Modifiers (speed, amplitude, repetitions, turn angle) are
drawn per action; durations follow the actions' natural timing (actions.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .actions import (
    ARM_INFO, ARM_WITH_TORSO, BASE_INFO, STRETCHABLE_ARMS, STRETCHABLE_TORSOS, TORSO_INFO, Action, MotionSpec,
    Segment, arm_duration, base_duration, composition_key, torso_duration,
)

ZIPF_EXPONENT = 1.0
ZIPF_OFFSET = 4.0
SEGMENT_COUNTS = {1: 0.42, 2: 0.33, 3: 0.25}
MIN_SECONDS = 2.2
MAX_SECONDS = 9.75  # + 1 frame -> at most 196 feature frames, the loaders' crop length
HOLD_BASES = frozenset({"stand", "sit", "kneel"})  # bases whose length follows their arm/torso action
TORSO_ONLY_WEIGHT = {True: 1.0, False: 0.5}  # torso action on a hold base / on another base
ARM_AND_TORSO_WEIGHT = 0.35


@dataclass(frozen=True)
class Composition:
    base: str
    base_variant: str
    arm: str | None
    arm_side: str
    torso: str | None
    torso_variant: str
    score: float

    @property
    def key(self) -> str:
        return composition_key(
            Action(self.base, self.base_variant),
            Action(self.arm, self.arm_side) if self.arm else None,
            Action(self.torso, self.torso_variant) if self.torso else None,
        )

    @property
    def posture_in(self) -> str:
        return BASE_INFO[self.base].posture[0]

    @property
    def posture_out(self) -> str:
        return BASE_INFO[self.base].posture[1]


@lru_cache(maxsize=1)
def all_compositions() -> tuple[Composition, ...]:
    """Every valid segment composition, ranked from most to least plausible (ties broken by key)."""
    found = []
    for base, info in BASE_INFO.items():
        hold = base in HOLD_BASES
        for variant, w_base in info.variants.items():
            found.append(Composition(base, variant, None, "", None, "", w_base * info.bare))
            for arm in sorted(info.arms):
                for side, w_arm in ARM_INFO[arm].variants.items():
                    w_arm = w_arm * info.arm_factor
                    found.append(Composition(base, variant, arm, side, None, "", w_base * w_arm))
                    for torso in sorted(info.torsos & ARM_WITH_TORSO.get(arm, frozenset())):
                        for t_variant, w_torso in TORSO_INFO[torso].variants.items():
                            score = w_base * w_arm * w_torso * ARM_AND_TORSO_WEIGHT
                            found.append(Composition(base, variant, arm, side, torso, t_variant, score))
            for torso in sorted(info.torsos):
                for t_variant, w_torso in TORSO_INFO[torso].variants.items():
                    found.append(Composition(base, variant, None, "", torso, t_variant, w_base * w_torso * TORSO_ONLY_WEIGHT[hold]))
    found.sort(key=lambda c: (-c.score, c.key))
    return tuple(found)


@lru_cache(maxsize=1)
def zipf_weights() -> np.ndarray:
    ranks = np.arange(1, len(all_compositions()) + 1, dtype=np.float64)
    return 1.0 / (ranks + ZIPF_OFFSET) ** ZIPF_EXPONENT


def _choice(rng: np.random.Generator, options: dict) -> object:
    keys = list(options)
    p = np.array([options[k] for k in keys], dtype=np.float64)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _modifiers(rng: np.random.Generator, info, name: str, variant: str) -> Action:
    speed = _choice(rng, {s: {"normal": 0.6}.get(s, 0.2) for s in info.speeds})
    amplitude = _choice(rng, {a: {"normal": 0.6}.get(a, 0.2) for a in info.amplitudes})
    low, high = info.reps
    reps = int(rng.integers(low, high + 1))
    angle = int(rng.choice([90, 180])) if name == "turn" else 0
    return Action(name, variant, speed, amplitude, reps, angle)


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keys, entry postures and base variants of all compositions, for fast masking."""
    compositions = all_compositions()
    return (
        np.array([c.key for c in compositions]),
        np.array([c.posture_in for c in compositions]),
        np.array([c.base_variant for c in compositions]),
    )


def _sample_composition(rng: np.random.Generator, posture: str, kneel_side: str, previous: str | None) -> Composition:
    keys, postures, variants = _tables()
    valid = (postures == posture) & (keys != previous)
    if posture == "kneel":
        valid &= variants == kneel_side
    weights = zipf_weights() * valid
    return all_compositions()[int(rng.choice(len(weights), p=weights / weights.sum()))]


def _span(rng: np.random.Generator, natural: float, total: float, stretch: bool) -> tuple[float, float]:
    """When an action of `natural` length runs inside a segment of `total` seconds."""
    if stretch:
        lead, tail = rng.uniform(0.1, 0.3), rng.uniform(0.1, 0.3)
        if total - lead - tail >= natural:
            return (lead, total - tail)
    slack = max(total - natural - 0.2, 0.0)
    start = 0.1 + rng.uniform(0.0, slack)
    return (start, min(start + natural, total - 0.05))


def _segment(rng: np.random.Generator, comp: Composition, brief: bool) -> Segment:
    base = _modifiers(rng, BASE_INFO[comp.base], comp.base, comp.base_variant)
    arm = _modifiers(rng, ARM_INFO[comp.arm], comp.arm, comp.arm_side) if comp.arm else None
    torso = _modifiers(rng, TORSO_INFO[comp.torso], comp.torso, comp.torso_variant) if comp.torso else None
    natural = base_duration(base, rng)
    if brief and comp.base in ("walk", "jog", "run", "stand"):  # parts of a sequence are shorter
        natural = max(natural * rng.uniform(0.55, 0.8), 1.6)
    arm_len = arm_duration(arm, rng) if arm else 0.0
    torso_len = torso_duration(torso, rng) if torso else 0.0
    if comp.base in HOLD_BASES and (arm or torso):
        total = max(arm_len, torso_len) + rng.uniform(0.3, 0.7)
    else:
        total = max(natural, arm_len + 0.4, torso_len + 0.4)
    arm_span = _span(rng, arm_len, total, arm.name in STRETCHABLE_ARMS) if arm else (0.0, 0.0)
    torso_span = _span(rng, torso_len, total, torso.name in STRETCHABLE_TORSOS) if torso else (0.0, 0.0)
    return Segment(base, arm, torso, round(float(total), 3), _rounded(arm_span), _rounded(torso_span))


def _rounded(span: tuple[float, float]) -> tuple[float, float]:
    """Spans and durations are kept to the millisecond, so descriptions survive a JSON round trip exactly."""
    return (round(float(span[0]), 3), round(float(span[1]), 3))


def sample_spec(rng: np.random.Generator) -> MotionSpec:
    """One motion description."""
    count = int(_choice(rng, SEGMENT_COUNTS))
    segments: list[Segment] = []
    posture, kneel_side, previous = "stand", "", None
    total = 0.0
    for index in range(count):
        comp = _sample_composition(rng, posture, kneel_side, previous)
        segment = _segment(rng, comp, brief=count > 1)
        if index > 0 and total + segment.duration > MAX_SECONDS:
            break
        if segment.duration > MAX_SECONDS:  # a long first segment: keep it, shortened
            segment = Segment(segment.base, segment.arm, segment.torso, MAX_SECONDS,
                              _rounded(_clip_span(segment.arm_span, MAX_SECONDS)),
                              _rounded(_clip_span(segment.torso_span, MAX_SECONDS)))
        segments.append(segment)
        total += segment.duration
        previous = comp.key
        posture = comp.posture_out
        if comp.base == "kneel_down":
            kneel_side = comp.base_variant
    if total < MIN_SECONDS:
        last = segments[-1]
        segments[-1] = Segment(last.base, last.arm, last.torso, round(last.duration + MIN_SECONDS - total, 3),
                               last.arm_span, last.torso_span)
    return MotionSpec(tuple(segments))


def _clip_span(span: tuple[float, float], total: float) -> tuple[float, float]:
    start, end = span
    return (min(start, total - 0.5), min(end, total - 0.05)) if end > 0 else span
