"""The built-in dataset's animation: exact bones, planted feet, recognisable actions, valid descriptions."""

from __future__ import annotations

import numpy as np
import pytest

from remogpt.data.synth.actions import GAIT_ACTIONS, Action, MotionSpec, Segment
from remogpt.data.synth.animate import animate
from remogpt.data.synth.compose import MAX_SECONDS, MIN_SECONDS, all_compositions, sample_spec
from remogpt.data.synth.quality import bone_length_error, foot_skating, ground_penetration
from remogpt.data.synth.rig import L_KNEE, L_SHOULDER, L_WRIST, R_KNEE, R_SHOULDER, R_WRIST
from remogpt.motion.features import features_to_joints, joints_to_features

TOES = [10, 11]


def _one(base: Action, arm: Action | None = None, torso: Action | None = None, seconds: float = 3.0) -> np.ndarray:
    segment = Segment(base, arm, torso, seconds, (0.2, seconds - 0.2), (0.2, seconds - 0.2))
    return animate(MotionSpec((segment,)), np.random.default_rng(0)).joints


def _height_above_floor(joints: np.ndarray) -> np.ndarray:
    return joints[..., 1] - joints[..., 1].min()


def test_walk_has_exact_bones_planted_feet_and_a_bobbing_pelvis():
    joints = _one(Action("walk", "forward"))
    assert bone_length_error(joints) < 1e-9
    assert ground_penetration(joints) < 1e-6
    assert foot_skating(joints) < 0.1
    travelled = np.linalg.norm(joints[-1, 0, [0, 2]] - joints[0, 0, [0, 2]])
    assert 2.0 < travelled < 3.5
    moving = joints[15:-15, 0, 1]
    assert 0.02 < moving.max() - moving.min() < 0.12  # the pelvis bobs with the steps
    # the toes take turns on the floor: each is lifted at some point while the other is down
    lifted = _height_above_floor(joints)[:, TOES] > 0.05
    assert (lifted[:, 0] & ~lifted[:, 1]).any() and (lifted[:, 1] & ~lifted[:, 0]).any()


def test_features_of_our_joints_do_not_need_retargeting():
    joints = _one(Action("jog"))
    full = joints_to_features(joints)
    skipped = joints_to_features(joints, retarget_skeleton=False)
    assert np.abs(full - skipped).max() < 1e-5
    assert ground_penetration(features_to_joints(full)) < 1e-4


def test_jump_leaves_the_floor_and_lands():
    joints = _one(Action("jump", "in_place", reps=1), seconds=2.4)
    toes = _height_above_floor(joints)[:, TOES]
    airborne = (toes > 0.05).all(axis=1)
    assert airborne.sum() >= 3
    assert (toes[-5:] < 0.02).all()


def test_wave_raises_the_hand_above_the_shoulder_and_oscillates():
    joints = _one(Action("stand"), Action("wave", "right"))
    above = joints[:, R_WRIST, 1] - joints[:, R_SHOULDER, 1]
    assert above.max() > 0.1
    assert (joints[:, L_WRIST, 1] < joints[:, L_SHOULDER, 1]).all()  # the other hand stays down
    raised = above > 0.1
    lateral = joints[raised, R_WRIST, 0] - joints[raised, 0, 0]
    assert lateral.max() - lateral.min() > 0.08  # side to side


def test_sitting_and_kneeling_reach_their_postures():
    spec = MotionSpec((
        Segment(Action("sit_down"), duration=2.4),
        Segment(Action("stand_up"), duration=2.3),
        Segment(Action("kneel_down", "left"), duration=2.7),
    ))
    joints = animate(spec, np.random.default_rng(1)).joints
    height = _height_above_floor(joints)
    assert height[40:50, 0].max() < 0.7  # seated pelvis
    assert height[85:95, 0].min() > 0.85  # stood up again
    assert height[-1, L_KNEE] < 0.1 < height[-1, R_KNEE]  # the left knee on the floor
    assert bone_length_error(joints) < 1e-9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_motions_are_plausible(seed):
    rng = np.random.default_rng(seed)
    for _ in range(4):
        spec = sample_spec(rng)
        joints = animate(spec, rng).joints
        assert np.isfinite(joints).all()
        assert bone_length_error(joints) < 1e-9
        assert ground_penetration(joints) < 0.01
        assert foot_skating(joints) < 0.2
        assert MIN_SECONDS * 20 <= len(joints) - 1 <= MAX_SECONDS * 20 + 2


def test_descriptions_are_deterministic_and_follow_posture():
    first = [sample_spec(np.random.default_rng(5)).to_dict() for _ in range(2)]
    assert first[0] == first[1]
    rng = np.random.default_rng(3)
    for _ in range(300):
        spec = sample_spec(rng)
        assert MIN_SECONDS - 1e-9 <= spec.duration <= MAX_SECONDS + 1e-9
        assert MotionSpec.from_dict(spec.to_dict()) == spec
        posture, side = "stand", ""
        previous = None
        for segment in spec.segments:
            name = segment.base.name
            expected = {"sit": "sit", "stand_up": "sit", "kneel": "kneel", "get_up": "kneel"}.get(name, "stand")
            assert posture == expected, spec.keys
            if posture == "kneel":
                assert segment.base.variant == side
            posture = {"sit_down": "sit", "stand_up": "stand", "kneel_down": "kneel", "get_up": "stand"}.get(name, posture)
            side = segment.base.variant if name == "kneel_down" else side
            assert segment.key != previous
            previous = segment.key
            if segment.arm:
                assert 0 <= segment.arm_span[0] < segment.arm_span[1] <= segment.duration + 1e-9


def test_compositions_are_ranked_once_with_a_long_tail():
    compositions = all_compositions()
    assert len({c.key for c in compositions}) == len(compositions) > 300
    assert compositions[0].key == "walk_forward|-|-"
    bases = {c.base for c in compositions}
    assert GAIT_ACTIONS <= bases and {"jump", "hop", "squat", "sit_down", "kneel_down"} <= bases
    assert {c.arm for c in compositions if c.arm} == {
        "wave", "raise", "punch", "clap", "reach_forward", "throw", "swing", "hand_to_mouth", "stretch_out", "cross_arms"}
    assert {c.torso for c in compositions if c.torso} == {"bend_forward", "lean", "twist", "bow", "nod", "look_around"}


def test_mirrors_are_fitted_back_onto_the_target_bones_with_feet_in_place():
    from remogpt.data.synth.pose import fit_to_rig
    from remogpt.data.synth.rig import default_rig
    from remogpt.motion.mirror import mirror_joints

    joints = _one(Action("walk", "forward"), Action("wave", "left"), seconds=4.0)
    mirrored = mirror_joints(joints)
    assert bone_length_error(mirrored) > 5e-3  # the target skeleton is not symmetric
    fitted = fit_to_rig(mirrored, default_rig())
    assert bone_length_error(fitted) < 1e-9
    assert np.abs(fitted[:, TOES] - mirrored[:, TOES]).max() < 0.02
    assert np.abs(fitted[:, TOES, 1] - mirrored[:, TOES, 1]).max() < 1e-6  # toes keep their height
    assert foot_skating(fitted) < 0.1 and ground_penetration(fitted) < 1e-6


def test_mirrored_description_swaps_sides():
    spec = MotionSpec((Segment(Action("walk", "left"), Action("wave", "right"), Action("lean", "left"), 3.0),
                       Segment(Action("circle", "clockwise"), duration=6.0)))
    mirrored = spec.mirrored()
    assert mirrored.keys == ["walk_right|wave_left|lean_right", "circle_counterclockwise|-|-"]
    assert mirrored.mirrored() == spec
