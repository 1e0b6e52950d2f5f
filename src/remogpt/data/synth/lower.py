"""Whole-body root actions that are not gaits: stand, jump, hop, squat, sit down / sit / stand up, kneel down / kneel /
get up. Each takes the state at its start (the last frame of the previous segment) and returns a Track.

Sitting down and kneeling down end in a posture held by `sit` / `kneel`; standing up and getting up are the time
reverse of going down from the same feet, so the posture geometry (seat height, knee on the floor) is exact.
"""

from __future__ import annotations

import numpy as np

from .actions import SPEED_FACTOR, Action
from .curves import ease, hermite, keyframes, ramp, smooth_noise, window
from .gait import FOOT_SPACING, TOE_OUT
from .rig import SIDE_SIGN, Rig, foot_direction, heading, lateral
from .track import HANG, Track, standing_track

GRAVITY = 9.81
HANDS_ON_THIGHS = np.deg2rad([0.0, 14.0, 55.0, 18.0])
ARMS_FORWARD = np.deg2rad([0.0, 80.0, 8.0, 0.0])
ARMS_BALANCE = np.deg2rad([80.0, 38.0, 30.0, 0.0])
KNEEL_BACK = -0.05  # kneeling pelvis sits this far behind the standing feet (m, forward axis)


def body_frame(state: Track) -> tuple[np.ndarray, float]:
    """Origin (feet midpoint on the floor) and heading of a standing state."""
    origin = state.ankle[-1].mean(0).copy()
    origin[1] = 0.0
    return origin, float(state.yaw[-1])


def to_world(origin: np.ndarray, yaw: float, local: np.ndarray) -> np.ndarray:
    """Body-frame points (..., 3) as (left, up, forward) -> world."""
    local = np.asarray(local, dtype=np.float64)
    return (
        origin
        + local[..., :1] * lateral(yaw)
        + local[..., 1:2] * np.array([0.0, 1.0, 0.0])
        + local[..., 2:3] * heading(yaw)
    )


def standing_state(origin: np.ndarray, yaw: float, rig: Rig) -> Track:
    """One frame standing with flat feet at hip width (plus a little) under the pelvis."""
    offset = rig.hip_half_width + FOOT_SPACING
    ankles = np.stack(
        [to_world(origin, yaw, [SIDE_SIGN[s] * offset, rig.ankle_height(s), 0.0]) for s in (0, 1)]
    )
    pelvis = origin + np.array([0.0, rig.standing_pelvis_height(), 0.0])
    return standing_track(1, pelvis, yaw, ankles, yaw + SIDE_SIGN * TOE_OUT)


def _idle(track: Track, rng: np.random.Generator, fps: float, sway: float = 0.01) -> None:
    """Breathing and a little weight shifting on top of a held pose."""
    t = np.arange(track.n) / fps
    breathing = np.sin(2 * np.pi * rng.uniform(0.2, 0.3) * t + rng.uniform(0, 2 * np.pi))
    track.spine[:, 0] += np.deg2rad(0.8) * breathing
    noise = smooth_noise(rng, track.n, fps, 2, max_hz=0.35)
    track.pelvis += sway * noise[:, :1] * lateral(track.yaw)
    track.yaw += np.deg2rad(1.5) * noise[:, 1]


def stand(action: Action, n: int, state: Track, rig: Rig, rng: np.random.Generator, fps: float) -> Track:
    """Stand in place on the current feet."""
    origin, _ = body_frame(state)
    feet_yaw = state.foot_yaw[-1]
    yaw = float(np.angle(np.exp(1j * feet_yaw).sum()))  # toe-out cancels between the feet
    track = standing_track(n, origin + [0.0, rig.standing_pelvis_height(), 0.0], yaw, state.ankle[-1], feet_yaw)
    track.yaw[:] = state.yaw[-1] + (yaw - state.yaw[-1] + np.pi) % (2 * np.pi) - np.pi
    _idle(track, rng, fps)
    return track


def jump(action: Action, n: int, state: Track, rig: Rig, rng: np.random.Generator, fps: float) -> Track:
    """Jump in place or forward, `reps` times: crouch with arms back, push off the toes with an arm swing, flight,
    land on the toes and absorb."""
    origin, yaw = body_frame(state)
    t = np.arange(n) / fps
    track = stand(action, n, state, rig, rng, fps)
    track.yaw[:] = yaw
    height = {"small": 0.07, "normal": 0.13, "large": 0.21}[action.amplitude] * rng.uniform(0.9, 1.1)
    crouch = {"small": 0.12, "normal": 0.17, "large": 0.22}[action.amplitude]
    distance = 0.0 if action.variant == "in_place" else {"small": 0.45, "normal": 0.65, "large": 0.85}[action.amplitude]
    distance *= rng.uniform(0.9, 1.1)
    flight = 2 * np.sqrt(2 * height / GRAVITY)
    v0 = GRAVITY * flight / 2
    stand_y = rig.standing_pelvis_height()
    takeoff_y = stand_y + 0.05
    period = (n / fps - 0.75) / action.reps
    forward = heading(yaw)
    pelvis_shift = np.zeros(n)
    y = np.full(n, stand_y)
    pitch = np.zeros(n)
    spine_pitch = np.zeros(n)
    elevation = np.full(n, HANG[1])
    plants = state.ankle[-1].copy()
    ankle = np.repeat(plants[None], n, 0)
    foot_pitch = np.zeros((n, 2))
    contact = np.ones((n, 2), dtype=bool)
    arm_peak = np.deg2rad({"small": 70, "normal": 115, "large": 155}[action.amplitude])
    for rep in range(action.reps):
        start = 0.3 + rep * period
        c_end = start + 0.36
        p_end = c_end + 0.15
        land = p_end + flight
        absorb = land + 0.22
        recover = min(absorb + 0.32, start + period)
        tau = t - start
        y = np.where((tau >= 0) & (t < c_end), stand_y - crouch * ease(tau / 0.36), y)
        y = np.where((t >= c_end) & (t < p_end), hermite(t, c_end, p_end, stand_y - crouch, takeoff_y, 0.0, v0), y)
        airborne = (t >= p_end) & (t < land)
        air = t - p_end
        y = np.where(airborne, takeoff_y + v0 * air - 0.5 * GRAVITY * air**2, y)
        y = np.where((t >= land) & (t < absorb), hermite(t, land, absorb, takeoff_y, stand_y - 0.6 * crouch, -v0, 0.0), y)
        y = np.where((t >= absorb) & (t < recover), stand_y - 0.6 * crouch * (1 - ease((t - absorb) / (recover - absorb))), y)
        rep_shift = distance * ease((t - c_end + 0.2) / (absorb - c_end + 0.2))
        pelvis_shift += rep_shift
        pitch += np.deg2rad(keyframes(t, [start, c_end, p_end, land, land + 0.12, recover], [0, 22, 4, 2, 14, 0])) * (
            (t >= start) & (t <= recover)
        )
        spine_pitch += np.deg2rad(keyframes(t, [start, c_end, p_end, land, land + 0.12, recover], [0, 14, -3, 0, 10, 0])) * (
            (t >= start) & (t <= recover)
        )
        arm = keyframes(t, [start, c_end, p_end + 0.08, land + 0.05, recover], [HANG[1], -np.deg2rad(45), arm_peak, np.deg2rad(40), HANG[1]])
        elevation = np.where((t >= start) & (t <= recover), arm, elevation)
        new_plants = plants + distance * forward
        for side in (0, 1):
            length = rig.foot(side)
            yaw_f = track.foot_yaw[0, side]
            toe = plants[side] + length * foot_direction(yaw_f, 0.0)
            new_toe = new_plants[side] + length * foot_direction(yaw_f, 0.0)
            rising = (t >= c_end) & (t < p_end)
            rise_pitch = -np.deg2rad(40) * ease((t - c_end) / 0.15)
            on_toes = toe - length * foot_direction(np.full(n, yaw_f), rise_pitch)
            ankle[rising, side] = on_toes[rising]
            foot_pitch[rising, side] = rise_pitch[rising]
            u = np.clip(air / flight, 0, 1)
            takeoff_ankle = toe - length * foot_direction(yaw_f, -np.deg2rad(40))
            landing_ankle = new_toe - length * foot_direction(yaw_f, -np.deg2rad(25))
            # In the air the feet travel with the body.
            carried = rep_shift - np.interp(p_end, t, rep_shift)
            carried = carried / max(np.interp(land, t, rep_shift) - np.interp(p_end, t, rep_shift), 1e-9) if distance > 0 else u
            carried = np.clip(carried, 0, 1)
            path = takeoff_ankle * (1 - carried)[:, None] + landing_ankle * carried[:, None]
            path[:, 1] = (takeoff_ankle[1] * (1 - u) + landing_ankle[1] * u + (y - takeoff_y)
                          + (0.05 + 0.25 * height) * np.sin(np.pi * u))
            ankle[airborne, side] = path[airborne]
            foot_pitch[airborne, side] = -np.deg2rad(40 - 15 * u[airborne])
            contact[airborne, side] = False
            after = t >= land
            settle_pitch = -np.deg2rad(25) * (1 - ease((t - land) / 0.1))
            settled = new_toe - length * foot_direction(np.full(n, yaw_f), settle_pitch)
            ankle[after, side] = settled[after]
            foot_pitch[after, side] = settle_pitch[after]
        plants = new_plants
    track.pelvis = track.pelvis + pelvis_shift[:, None] * forward
    track.pelvis[:, 1] = y
    track.pelvis_pitch = pitch
    track.spine[:, 0] += spine_pitch
    track.neck[:, 0] = -0.6 * (pitch + spine_pitch)
    track.arms[:, :, 1] = elevation[:, None]
    track.arms[:, :, 2] = np.deg2rad(20)
    track.ankle, track.foot_pitch, track.contact = ankle, foot_pitch, contact
    return track


def hop(action: Action, n: int, state: Track, rig: Rig, rng: np.random.Generator, fps: float) -> Track:
    """Hop `reps` times on one foot (variant = the foot hopped on), the other foot held up behind."""
    origin, yaw = body_frame(state)
    t = np.arange(n) / fps
    track = stand(action, n, state, rig, rng, fps)
    track.yaw[:] = yaw
    support = 0 if action.variant == "left" else 1
    free = 1 - support
    duration = n / fps
    stand_y = rig.standing_pelvis_height()
    plants = state.ankle[-1]
    # Shift the weight over the support foot, then lift the free foot behind (knee bent).
    lift = window(t, 0.2, duration - 0.2, 0.55, 0.6)
    over = plants[support] - origin
    over[1] = 0.0
    track.pelvis += 0.85 * lift[:, None] * over
    height = 0.055
    flight = 2 * np.sqrt(2 * height / GRAVITY)
    v0 = GRAVITY * flight / 2
    first = 0.85
    period = (duration - 1.7) / action.reps
    y = np.full(n, stand_y - 0.01)
    ankle = track.ankle
    foot_pitch = track.foot_pitch
    contact = track.contact
    length = rig.foot(support)
    yaw_s = track.foot_yaw[0, support]
    toe = plants[support] + length * foot_direction(yaw_s, 0.0)
    for rep in range(action.reps):
        start = first + rep * period
        c_end = start + 0.14
        p_end = c_end + 0.08
        land = p_end + flight
        absorb = land + 0.12
        recover = min(absorb + 0.15, start + period)
        y = np.where((t >= start) & (t < c_end), stand_y - 0.01 - 0.05 * ease((t - start) / 0.14), y)
        y = np.where((t >= c_end) & (t < p_end), hermite(t, c_end, p_end, stand_y - 0.06, stand_y + 0.04, 0.0, v0), y)
        airborne = (t >= p_end) & (t < land)
        air = t - p_end
        y = np.where(airborne, stand_y + 0.04 + v0 * air - 0.5 * GRAVITY * air**2, y)
        y = np.where((t >= land) & (t < absorb), hermite(t, land, absorb, stand_y + 0.04, stand_y - 0.05, -v0, 0.0), y)
        y = np.where((t >= absorb) & (t < recover), stand_y - 0.05 + 0.04 * ease((t - absorb) / (recover - absorb)), y)
        on_toes = np.where((t >= c_end) & (t < p_end), -np.deg2rad(35) * ease((t - c_end) / 0.08), 0.0)
        on_toes = np.where(airborne, -np.deg2rad(35 - 10 * np.clip(air / flight, 0, 1)), on_toes)
        on_toes = np.where((t >= land) & (t < land + 0.08), -np.deg2rad(25) * (1 - ease((t - land) / 0.08)), on_toes)
        active = (t >= c_end) & (t < land + 0.08)
        pose = toe - length * foot_direction(np.full(n, yaw_s), on_toes)
        pose[airborne, 1] += (y[airborne] - stand_y - 0.04) + 0.02 * np.sin(np.pi * air[airborne] / flight)
        ankle[active, support] = pose[active]
        foot_pitch[active, support] = on_toes[active]
        contact[airborne, support] = False
    track.pelvis[:, 1] = np.where(lift > 0.999, y, stand_y * (1 - lift) + (stand_y - 0.01) * lift)
    # The free foot: tucked behind the body, moving with the pelvis.
    free_plant = plants[free]
    tucked_local = np.array([0.0, 0.26, -0.14])
    tucked = free_plant + tucked_local[1] * np.array([0.0, 1.0, 0.0]) + tucked_local[2] * heading(yaw)
    tucked = tucked + 0.85 * over * 0.5
    raised = ease(np.clip(lift, 0, 1))
    follow = track.pelvis[:, 1] - (stand_y - 0.01)
    ankle[:, free] = free_plant * (1 - raised[:, None]) + (tucked + follow[:, None] * [0, 1, 0] * (lift[:, None] > 0.999)) * raised[:, None]
    foot_pitch[:, free] = -np.deg2rad(30) * raised
    contact[:, free] = raised < 0.05
    balance = window(t, 0.2, duration - 0.2, 0.5, 0.6)
    track.arms = track.arms * (1 - balance[:, None, None]) + ARMS_BALANCE * balance[:, None, None]
    track.spine[:, 1] += -SIDE_SIGN[support] * np.deg2rad(4) * balance  # lean slightly over the support leg
    return track


def squat(action: Action, n: int, state: Track, rig: Rig, rng: np.random.Generator, fps: float) -> Track:
    """Squat down and up `reps` times, hips back, trunk forward, arms forward for balance; heels stay down."""
    origin, yaw = body_frame(state)
    t = np.arange(n) / fps
    track = stand(action, n, state, rig, rng, fps)
    track.yaw[:] = yaw
    depth = {"small": 0.2, "normal": 0.32, "large": 0.42}[action.amplitude] * rng.uniform(0.92, 1.05)
    speed = SPEED_FACTOR[action.speed]
    period = (n / fps - 0.5) / action.reps
    down = np.zeros(n)
    for rep in range(action.reps):
        start = 0.3 + rep * period
        go = min(0.8 * speed, period * 0.4)
        hold = max(period - 2 * go - 0.15, 0.05)
        down = np.maximum(down, window(t, start, start + 2 * go + hold, go, go))
    ratio = depth / 0.32
    track.pelvis[:, 1] -= depth * down
    track.pelvis -= (0.14 * ratio * down)[:, None] * heading(yaw)
    track.pelvis_pitch += np.deg2rad(28) * ratio * down
    track.spine[:, 0] += np.deg2rad(12) * down
    track.neck[:, 0] -= np.deg2rad(30) * ratio * down
    reach = np.clip(down * 1.2, 0, 1)[:, None, None]
    track.arms = track.arms * (1 - reach) + ARMS_FORWARD * reach
    return track


def _seat(rig: Rig) -> tuple[float, float]:
    """How far back (m) and how high the pelvis sits on a chair: hips at knee height, thighs level."""
    back = 0.92 * float(np.mean([rig.thigh(s) for s in (0, 1)]))
    height = float(np.mean([rig.shin(s) + rig.ankle_height(s) for s in (0, 1)])) + 0.03 + rig.hip_drop
    return back, height


def sit_down(action: Action, n: int, state: Track, rig: Rig, rng: np.random.Generator, fps: float) -> Track:
    """Lower onto a chair behind: hips go back then down, trunk leans forward on the way and comes back up."""
    origin, yaw = body_frame(state)
    t = np.arange(n) / fps
    track = stand(action, n, state, rig, rng, fps)
    track.yaw[:] = yaw
    back, seat_y = _seat(rig)
    u = np.clip((t - 0.15) / max(n / fps - 0.45, 0.5), 0, 1)
    stand_y = rig.standing_pelvis_height()
    track.pelvis -= (back * ease(u / 0.75))[:, None] * heading(yaw)
    track.pelvis[:, 1] = stand_y - (stand_y - seat_y) * ease((u - 0.15) / 0.85)
    lean = np.sin(np.pi * np.clip(u * 1.1, 0, 1))
    track.pelvis_pitch = np.deg2rad(24) * lean + np.deg2rad(4) * ease(u)
    track.spine[:, 0] += np.deg2rad(22) * lean + np.deg2rad(3) * ease(u)
    track.neck[:, 0] -= 0.5 * (track.pelvis_pitch + track.spine[:, 0])
    hands = ease(u)[:, None, None]
    reach = (np.deg2rad(22) * lean)[:, None]
    track.arms = track.arms * (1 - hands) + HANDS_ON_THIGHS * hands
    track.arms[:, :, 1] += reach
    return track


def sit(action: Action, n: int, state: Track, rig: Rig, rng: np.random.Generator, fps: float) -> Track:
    """Stay seated (or kneeling): hold the posture, breathing."""
    track = Track.hold(state, n)
    _idle(track, rng, fps, sway=0.003)
    return track


def stand_up(action: Action, n: int, state: Track, rig: Rig, rng: np.random.Generator, fps: float) -> Track:
    """Rise from the chair: the time reverse of sitting down on the same feet."""
    origin, _ = body_frame(state)
    yaw = float(np.angle(np.exp(1j * state.foot_yaw[-1]).sum()))
    standing = standing_state(origin, yaw, rig)
    standing.ankle[0], standing.foot_yaw[0] = state.ankle[-1], state.foot_yaw[-1]
    return sit_down(action, n, standing, rig, rng, fps).reversed()


def _kneel_geometry(rig: Rig, kneeling: int) -> dict:
    """Body-frame targets of kneeling on one knee: knee on the floor under the hip, shin back with the toes tucked,
    the other foot forward with a vertical shin and a level thigh."""
    front = 1 - kneeling
    knee_y = 0.055
    hip_k = rig.offsets[(1, 2)[kneeling]]
    knee_z = hip_k[2] + KNEEL_BACK + 0.03
    hip_y = knee_y + np.sqrt(rig.thigh(kneeling) ** 2 - 0.03**2)
    pelvis_y = hip_y - hip_k[1]
    foot_angle = np.deg2rad(55)  # toes tucked: the foot points steeply down to the floor
    kneel_pitch = -(foot_angle - np.deg2rad(23))
    ankle_y = rig.foot(kneeling) * np.sin(foot_angle)
    ankle_z = knee_z - np.sqrt(rig.shin(kneeling) ** 2 - (ankle_y - knee_y) ** 2)
    hip_f = rig.offsets[(1, 2)[front]]
    front_knee_y = rig.ankle_height(front) + rig.shin(front)
    front_hip_y = pelvis_y + hip_f[1]
    front_z = hip_f[2] + KNEEL_BACK + np.sqrt(max(rig.thigh(front) ** 2 - (front_knee_y - front_hip_y) ** 2, 0.0))
    return {
        "pelvis": np.array([0.0, pelvis_y, KNEEL_BACK]),
        "kneel_ankle": np.array([hip_k[0], ankle_y, ankle_z]),
        "kneel_pitch": kneel_pitch,
        "front_ankle": np.array([hip_f[0] * 1.3, rig.ankle_height(front), front_z - 0.02]),
    }


def kneel_down(action: Action, n: int, state: Track, rig: Rig, rng: np.random.Generator, fps: float) -> Track:
    """Kneel on one knee (variant): step the other foot forward, the kneeling foot back onto its toes, then lower
    the hips until the knee touches the floor."""
    origin, yaw = body_frame(state)
    t = np.arange(n) / fps
    duration = n / fps
    track = stand(action, n, state, rig, rng, fps)
    track.yaw[:] = yaw
    kneeling = 0 if action.variant == "left" else 1
    front = 1 - kneeling
    geometry = _kneel_geometry(rig, kneeling)
    scale = (duration - 0.3) / 2.4
    step1 = (0.15 * scale, 0.8 * scale)
    step2 = (0.75 * scale, 1.45 * scale)
    lower = (0.9 * scale, duration - 0.2)
    stand_y = rig.standing_pelvis_height()
    pelvis_local = keyframes(
        t,
        [0.0, step1[1], step2[1], lower[1]],
        [[0, stand_y, 0], [SIDE_SIGN[kneeling] * 0.03, stand_y - 0.03, 0.06],
         [0, stand_y - 0.14, 0.02], geometry["pelvis"]],
    )
    track.pelvis = to_world(origin, yaw, pelvis_local)
    for side, target, (a, b), pitch_end in (
        (front, geometry["front_ankle"], step1, 0.0),
        (kneeling, geometry["kneel_ankle"], step2, geometry["kneel_pitch"]),
    ):
        start = state.ankle[-1, side]
        end = to_world(origin, yaw, target)
        u = np.clip((t - a) / (b - a), 0, 1)
        path = start * (1 - ease(u))[:, None] + end * ease(u)[:, None]
        path[:, 1] += 0.07 * np.sin(np.pi * u)
        track.ankle[:, side] = path
        track.foot_pitch[:, side] = pitch_end * ease(u) + np.deg2rad(8 if side == front else -10) * np.sin(np.pi * u)
        track.contact[:, side] = (u <= 0) | (u >= 1)
    lean = np.sin(np.pi * np.clip((t - lower[0]) / (lower[1] - lower[0]), 0, 1))
    track.spine[:, 0] += np.deg2rad(12) * lean
    track.pelvis_pitch = np.deg2rad(8) * lean
    return track


def get_up(action: Action, n: int, state: Track, rig: Rig, rng: np.random.Generator, fps: float) -> Track:
    """Get up from one knee: the time reverse of kneeling down from the standing spot it started from."""
    yaw = float(state.yaw[-1])
    origin = state.pelvis[-1] - KNEEL_BACK * heading(yaw)
    origin[1] = 0.0
    return kneel_down(action, n, standing_state(origin, yaw, rig), rig, rng, fps).reversed()


GENERATORS = {
    "stand": stand,
    "jump": jump,
    "hop": hop,
    "squat": squat,
    "sit_down": sit_down,
    "sit": sit,
    "stand_up": stand_up,
    "kneel_down": kneel_down,
    "kneel": sit,
    "get_up": get_up,
}
