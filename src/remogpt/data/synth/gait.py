"""Locomotion: walking (forward, backward, sideways), jogging, running, turning in place and walking in a circle.

A run of consecutive locomotion segments is generated as one continuous gait, so "walks forward, turns around and
walks back" does not stop between its parts:
1. per-frame targets (body-frame velocity, yaw rate, gait style walk -> run) from the segments, smoothed over
   ~0.4 s at their boundaries and ramped up from / down to standing at the ends;
2. the root path and heading integrate them; a gait phase advances with a cadence that grows with speed;
3. each leg alternates stance and swing by its phase (duty factor 0.62 walking ... 0.36 running, so running has
   flight phases); every stance plants the foot, in world space, where the root is at mid-stance (plus the foot's
   lateral offset), so planted feet do not slide;
4. stance rolls the foot (heel strike -> flat -> heel rise about the toe; toe strike when walking backwards) and
   swing carries it to the next plant along an arc that rises early (knee flexion follows from the IK);
5. the pelvis sways over the stance foot, rotates with the stride, drops on the swing side, dips in running
   stance; the thorax counter-rotates, the arms swing opposite to the legs, elbows bend more when running.
"""

from __future__ import annotations

import numpy as np

from .actions import Action
from .curves import early_bump, ease, gaussian, ramp
from .rig import SIDE_SIGN, Rig, foot_direction, heading, lateral
from .track import HANG, Track

FOOT_SPACING = 0.025
PLANT_AT = 0.42  # the root passes over a planted foot 42% into its stance (the heel lands ahead of the hips)
MIN_SWING = 0.25  # seconds  # feet land this far outside the hip joints
TOE_OUT = np.deg2rad(7.0)

WALK_SPEED = {"slow": 0.8, "normal": 1.2, "fast": 1.6}
BACKWARD_SPEED = {"slow": 0.45, "normal": 0.65, "fast": 0.85}
SIDEWAYS_SPEED = {"slow": 0.35, "normal": 0.5, "fast": 0.65}
CIRCLE_SPEED = {"slow": 0.75, "normal": 1.0, "fast": 1.3}
JOG_SPEED = 2.3
RUN_SPEED = {"normal": 3.2, "fast": 3.9}


def _segment_targets(action: Action, rng: np.random.Generator) -> dict:
    """Body-frame velocity (lateral, forward), style (0 walk, 1 run) and turn for one locomotion segment."""
    jitter = rng.uniform(0.92, 1.08)
    name, variant = action.name, action.variant
    if name == "walk":
        if variant == "backward":
            return {"vel": (0.0, -BACKWARD_SPEED[action.speed] * jitter), "style": 0.0}
        if variant in ("left", "right"):
            sign = 1.0 if variant == "left" else -1.0
            return {"vel": (sign * SIDEWAYS_SPEED[action.speed] * jitter, 0.0), "style": 0.0}
        return {"vel": (0.0, WALK_SPEED[action.speed] * jitter), "style": 0.0}
    if name == "jog":
        return {"vel": (0.0, JOG_SPEED * jitter), "style": 0.55}
    if name == "run":
        return {"vel": (0.0, RUN_SPEED.get(action.speed, 3.2) * jitter), "style": 1.0}
    if name == "turn":
        angle = np.deg2rad(action.angle or 90) * (1.0 if variant == "left" else -1.0)
        return {"vel": (0.0, 0.0), "style": 0.0, "turn": angle}
    if name == "circle":
        sign = 1.0 if variant == "counterclockwise" else -1.0  # seen from above, Y up: counterclockwise turns left
        return {"vel": (0.0, CIRCLE_SPEED[action.speed] * jitter), "style": 0.0, "turn": sign * 2 * np.pi, "steady": True}
    raise ValueError(f"{name} is not a locomotion action")


def _finish_steps(stance: np.ndarray, min_swing: int) -> np.ndarray:
    """Make the gait end on both feet: a swing that cannot finish before the last frame is shortened to end there
    (a quick final step), and one starting in the last `min_swing` frames is dropped."""
    stance = stance.copy()
    n = len(stance)
    starts = np.flatnonzero(stance[:-1] & ~stance[1:]) + 1
    for start in starts:
        landing = start + int(np.argmax(stance[start:])) if stance[start:].any() else n
        if start > n - 2 - min_swing:
            stance[start:] = True
        elif landing > n - 2:
            stance[start : n - 2] = False
            stance[n - 2 :] = True
    return stance


def _intervals(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) frame ranges where mask is True."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[0::2], edges[1::2]))


def gait(
    segments: list[tuple[Action, int]], state: Track, rig: Rig, rng: np.random.Generator, fps: float
) -> Track:
    """A continuous gait over locomotion segments given as (action, frames), starting from standing `state`."""
    n = sum(frames for _, frames in segments)
    t = np.arange(n) / fps
    duration = n / fps
    # A personal walking style per motion, so no two walkers are the same.
    style_arms = rng.uniform(0.7, 1.3)  # arm swing
    style_elbow = np.deg2rad(rng.uniform(-5, 12))
    style_lean = np.deg2rad(rng.uniform(-2, 4))
    style_lift = rng.uniform(0.85, 1.2)  # swing foot height
    style_sway = rng.uniform(0.7, 1.3)
    toe_out = np.deg2rad(rng.uniform(3, 12))

    # 1. Targets per frame.
    vel = np.zeros((n, 2))
    style = np.zeros(n)
    yaw_rate = np.zeros(n)
    start = 0
    first_action = segments[0][0]
    for action, frames in segments:
        targets = _segment_targets(action, rng)
        piece = slice(start, start + frames)
        vel[piece] = targets["vel"]
        style[piece] = targets["style"]
        if "turn" in targets:
            local = np.arange(frames) / fps
            span = frames / fps
            if targets.get("steady"):
                profile = ramp(local, 0.2, 0.9) * (1.0 - ramp(local, span - 0.9, span - 0.2))
            else:
                margin = min(0.25, 0.15 * span)
                u = np.clip((local - margin) / max(span - 2 * margin, 1e-3), 0.0, 1.0)
                profile = 30.0 * u**2 * (1 - u) ** 2  # derivative of the minimum-jerk ease
            yaw_rate[piece] = targets["turn"] * profile / max(profile.sum() / fps, 1e-9)
        start += frames
    sigma = 0.12 * fps
    vel = gaussian(vel, sigma)
    style = gaussian(style, sigma)
    envelope = ramp(t, 0.0, min(0.7, duration / 3)) * (1.0 - ramp(t, duration - min(0.8, duration / 3), duration))
    vel *= envelope[:, None]
    speed = np.sqrt((vel**2).sum(-1))
    style_now = style * np.clip(speed / 2.0, 0.0, 1.0)  # a run starts with walking steps

    # 2. Root path and heading.
    yaw = state.yaw[-1] + np.concatenate([[0.0], np.cumsum(yaw_rate[:-1]) / fps])
    world_vel = vel[:, :1] * lateral(yaw) + vel[:, 1:] * heading(yaw)
    root = np.empty((n, 3))
    root[0] = state.pelvis[-1]
    root[1:] = root[0] + np.cumsum(world_vel[:-1], axis=0) / fps
    root[:, 1] = 0.0

    sideways = np.abs(vel[:, 0]) > np.abs(vel[:, 1])
    cadence = np.clip(0.65 + 0.24 * speed, 0.72, 1.1)  # strides per second, walking
    cadence = np.where(sideways, 1.1 + 0.2 * speed, cadence)
    cadence = (1 - style_now) * cadence + style_now * (1.28 + 0.05 * speed)
    duty = (1 - style_now) * 0.6 + style_now * 0.36

    # 3. Phases and stance masks. The lead leg lifts ~0.15 s in.
    if first_action.name == "walk" and first_action.variant in ("left", "right"):
        lead = 0 if first_action.variant == "left" else 1
    elif first_action.name == "turn":
        lead = 0 if first_action.variant == "left" else 1
    else:
        lead = int(rng.integers(2))
    phase = duty[0] - 0.15 * cadence[0] + np.concatenate([[0.0], np.cumsum(cadence[:-1]) / fps])
    phases = np.empty((n, 2))
    phases[:, lead] = phase
    phases[:, 1 - lead] = phase - 0.5
    frac = phases % 1.0
    stance = frac < duty[:, None]
    stance[0] = True
    for side in (0, 1):
        stance[:, side] = _finish_steps(stance[:, side], int(round(MIN_SWING * fps)))

    # Where each stance plants its foot; stances that would not move the foot are merged (no marching in place).
    offset_of = [rig.hip_half_width + FOOT_SPACING] * 2
    frame_index = np.arange(n)

    def plant_at(side: int, a: int) -> tuple[np.ndarray, float]:
        if a == 0:
            return state.ankle[-1, side].copy(), float(state.foot_yaw[-1, side])
        nominal = duty[a] / cadence[a] * fps
        when = min(a + PLANT_AT * nominal, n - 1)
        # Sideways, the leading foot reaches further out and the trailing one closes in, so the legs never cross.
        sideways_share = vel[int(when), 0] / max(speed[int(when)], 1e-6)
        when = float(np.clip(when + SIDE_SIGN[side] * sideways_share * 0.25 / cadence[a] * fps, a, n - 1))
        centre = np.array([np.interp(when, frame_index, root[:, k]) for k in range(3)])
        body_yaw = float(np.interp(when, frame_index, yaw))
        plant = centre + SIDE_SIGN[side] * offset_of[side] * lateral(body_yaw)
        plant[1] = rig.ankle_height(side)
        return plant, body_yaw + SIDE_SIGN[side] * toe_out

    plants: list[list[tuple[int, int, np.ndarray, float]]] = []
    for side in (0, 1):
        merged: list[tuple[int, int, np.ndarray, float]] = []
        for a, b in _intervals(stance[:, side]):
            plant, plant_yaw = plant_at(side, a)
            if merged:
                _, b_prev, p_prev, y_prev = merged[-1]
                same = np.linalg.norm(plant - p_prev) < 0.03 and abs(np.angle(np.exp(1j * (plant_yaw - y_prev)))) < 0.06
                if same:
                    stance[b_prev:a, side] = True
                    merged[-1] = (merged[-1][0], b, p_prev, y_prev)
                    continue
            merged.append((a, b, plant, plant_yaw))
        plants.append(merged)

    # 4. Feet.
    ankle = np.zeros((n, 2, 3))
    foot_yaw = np.zeros((n, 2))
    foot_pitch = np.zeros((n, 2))
    stance_progress = np.zeros((n, 2))
    for side in (0, 1):
        length = rig.foot(side)
        states = []  # per stance interval: (start, end, run style, forward speed)
        for a, b, plant, plant_yaw in plants[side]:
            nominal = duty[a] / cadence[a] * fps  # stance length in frames
            frames = np.arange(a, b)
            mid = int(min(a + nominal / 2, n - 1))
            forward = vel[mid, 1]
            run = style_now[mid]
            if forward > 0.25:
                k = np.clip(speed[mid] / 1.2, 0.4, 1.2)
                land, lift = np.deg2rad((1 - run) * 15 * k + run * 4), -np.deg2rad((1 - run) * 28 * k + run * 38)
                rise_from, land_pivot_toe, lift_pivot_toe = (1 - run) * 0.55 + run * 0.45, False, True
            elif forward < -0.2:
                land, lift = -np.deg2rad(12), np.deg2rad(10)
                rise_from, land_pivot_toe, lift_pivot_toe = 0.7, True, False
            else:
                land, lift = np.deg2rad(4), -np.deg2rad(14)
                rise_from, land_pivot_toe, lift_pivot_toe = 0.6, False, True
            since = (frames - a) / fps
            until = (b - frames) / fps if b < n else np.full(len(frames), np.inf)
            nominal_s = nominal / fps
            roll_in = 0.14 * nominal_s
            roll_out = (1 - rise_from) * nominal_s
            if a == 0:  # the first stance began before this gait: only what is left of it can roll
                roll_out = min(roll_out, len(frames) / fps)
            pitch = np.zeros(len(frames))
            pivot_toe = np.zeros(len(frames), dtype=bool)
            if a > 0:
                landing = since < roll_in
                pitch = np.where(landing, land * (1 - ease(since / roll_in)), pitch)
                pivot_toe |= landing & land_pivot_toe
            if b < n:
                lifting = until < roll_out
                pitch = np.where(lifting, lift * ease(1 - until / roll_out), pitch)
                pivot_toe |= lifting & lift_pivot_toe
            toe_plant = plant + length * foot_direction(plant_yaw, 0.0)
            heel_side = np.repeat(plant[None], len(frames), 0)
            toe_side = toe_plant - length * foot_direction(np.full(len(frames), plant_yaw), pitch)
            ankle[a:b, side] = np.where(pivot_toe[:, None], toe_side, heel_side)
            foot_yaw[a:b, side] = plant_yaw
            foot_pitch[a:b, side] = pitch
            stance_progress[a:b, side] = np.clip(since / max(nominal_s, 1e-3), 0, 1)
            states.append((a, b, run, forward))
        # Swings between consecutive stances.
        for (a0, b0, _, _), (a1, b1, run, forward) in zip(states[:-1], states[1:]):
            frames = np.arange(b0, a1)
            u = (frames - (b0 - 1)) / (a1 - (b0 - 1))
            start_ankle, end_ankle = ankle[b0 - 1, side], ankle[a1, side]
            start_yaw = foot_yaw[b0 - 1, side]
            end_yaw = start_yaw + (foot_yaw[a1, side] - start_yaw + np.pi) % (2 * np.pi) - np.pi
            step = np.linalg.norm(end_ankle[[0, 2]] - start_ankle[[0, 2]])
            if forward > 0.25:
                height = ((1 - run) * (0.07 + 0.05 * min(step / 1.2, 1.2)) + run * 0.24) * style_lift
            else:
                height = (0.075 + 0.04 * min(step / 0.6, 1.0)) * style_lift
            s = ease(u)[:, None]
            path = start_ankle * (1 - s) + end_ankle * s
            path[:, 1] = start_ankle[1] * (1 - u) + end_ankle[1] * u + height * early_bump(u, 0.38 - 0.08 * run)
            ankle[b0:a1, side] = path
            foot_yaw[b0:a1, side] = start_yaw * (1 - s[:, 0]) + end_yaw * s[:, 0]
            foot_pitch[b0:a1, side] = foot_pitch[b0 - 1, side] * (1 - s[:, 0]) + foot_pitch[a1, side] * s[:, 0]
            # Toe clearance: never let the swinging toe dip below the floor.
            toe_y = path[:, 1] + length * foot_direction(foot_yaw[b0:a1, side], foot_pitch[b0:a1, side])[:, 1]
            ankle[b0:a1, side, 1] += np.maximum(0.004 - toe_y, 0.0) * np.sin(np.pi * u)
            ankle[b0:a1, side, 1] = np.maximum(ankle[b0:a1, side, 1], path[:, 1])

    # 5. Pelvis and upper body.
    support = gaussian(stance[:, 0].astype(float) - stance[:, 1].astype(float), 0.12 * fps)
    moving = np.clip(speed / 0.4, 0.0, 1.0)
    pelvis = root.copy()
    sway = (0.022 * style_sway * (1 - 0.7 * style_now)) * support * np.maximum(moving, 0.5)
    pelvis += sway[:, None] * lateral(yaw)
    standing_height = rig.standing_pelvis_height()
    dip = (stance_progress * stance).max(-1)
    running_dip = np.sin(np.pi * dip) * (stance.sum(-1) > 0)
    pelvis[:, 1] = standing_height - 0.012 * moving - 0.05 * style_now - 0.035 * style_now * running_dip

    forwardness = np.clip(vel[:, 1] / 1.3, -0.6, 1.0)
    swing_phase = np.cos(2 * np.pi * phases[:, 0])
    rotate = np.deg2rad(6 + 4 * style_now) * forwardness * swing_phase
    pelvis_yaw = yaw - rotate
    pelvis_pitch = np.deg2rad(1.5 + 5 * style_now) * moving - np.deg2rad(2) * (vel[:, 1] < -0.2)
    pelvis_roll = np.deg2rad(3.5) * support * (1 - 0.5 * style_now) * np.maximum(moving, 0.4)

    spine = np.zeros((n, 3))
    spine[:, 0] = (np.deg2rad(2 + 7 * style_now) + style_lean) * moving
    spine[:, 2] = 1.35 * rotate  # the thorax turns against the pelvis
    neck = np.zeros((n, 3))
    neck[:, 0] = -0.8 * (spine[:, 0] + pelvis_pitch)
    neck[:, 2] = -0.3 * rotate + 0.25 * gaussian(yaw_rate, 4)  # steady gaze, looking into turns

    arms = np.repeat(np.repeat(HANG[None, None], 2, 1), n, 0).astype(np.float64)
    amplitude = (np.deg2rad(6 + 14 * np.clip(speed / 1.2, 0, 1.2)) * (1 - style_now) + np.deg2rad(38) * style_now) * style_arms
    amplitude *= np.where(sideways, 0.3, 1.0) * np.where(vel[:, 1] < -0.2, 0.6, 1.0)
    for side in (0, 1):
        swing = -np.cos(2 * np.pi * phases[:, side]) * np.sign(vel[:, 1] + 1e-6)
        arms[:, side, 1] = HANG[1] + np.deg2rad(4) * moving + amplitude * swing * np.maximum(moving, 0.3)
        arms[:, side, 2] = (HANG[2] + (np.deg2rad(6) + style_elbow) * moving + np.deg2rad(72) * style_now
                            + np.deg2rad(6) * np.maximum(swing, 0))
        arms[:, side, 3] = HANG[3] + np.deg2rad(10) * style_now

    return Track(
        pelvis=pelvis,
        yaw=pelvis_yaw,
        pelvis_pitch=pelvis_pitch,
        pelvis_roll=pelvis_roll,
        ankle=ankle,
        foot_yaw=foot_yaw,
        foot_pitch=foot_pitch,
        contact=stance.copy(),
        spine=spine,
        neck=neck,
        arms=arms,
        collar=np.zeros((n, 2)),
    )
