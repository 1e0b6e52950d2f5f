"""Motions longer than one clip: steps ('walk | sit | wave' or a timeline file) as one continuous motion, and
durations above one clip going on instead of being cut."""

from __future__ import annotations

import numpy as np
import pytest

from remogpt.errors import UserInputError
from remogpt.shipped import shipped_model_dir
from remogpt.timeline import Step, generate_long, parse_steps, read_timeline

THREE_STEPS = [Step("a person walks forward", 10), Step("a person sits down", 10), Step("a person waves with the right hand", 10)]


def test_steps_parse_from_text_and_timeline_files(tmp_path):
    assert parse_steps(" walk  forward | sit down|wave ") == [Step("walk forward"), Step("sit down"), Step("wave")]
    assert parse_steps("a person walks") == [Step("a person walks")]
    path = tmp_path / "t.jsonl"
    path.write_text('{"text": "walk forward", "seconds": 4}\n\n{"text": " sit   down"}\n')
    assert read_timeline(path) == [Step("walk forward", 4.0), Step("sit down", None)]


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "holds no step"),
        ("walk forward\n", "line 1 is not JSON"),
        ('{"seconds": 3}\n', 'line 1 needs a non-empty "text"'),
        ('{"text": "walk", "seconds": -1}\n', '"seconds" must be a positive number'),
        ('{"text": "walk", "seconds": true}\n', '"seconds" must be a positive number'),
        ('["walk"]\n', 'needs a non-empty "text"'),
    ],
)
def test_bad_timeline_files_are_one_sentence(tmp_path, content, message):
    path = tmp_path / "t.jsonl"
    path.write_text(content)
    with pytest.raises(UserInputError, match=message):
        read_timeline(path)
    with pytest.raises(UserInputError, match="is empty"):
        parse_steps("walk | | sit")


@pytest.fixture(scope="module")
def shipped():
    if shipped_model_dir() is None:
        pytest.skip("no shipped model in this installation")
    from remogpt.pipeline import ReMoGPT

    return ReMoGPT.from_pretrained(None)


def _largest_real_step(folder) -> float:
    from remogpt.data.folder import HumanML3DFolder
    from remogpt.motion.features import features_to_joints

    samples = HumanML3DFolder(folder).samples("train")
    return max(float(np.linalg.norm(np.diff(features_to_joints(s.features), axis=0), axis=-1).max()) for s in samples)


def test_a_thirty_second_timeline_is_one_continuous_motion(shipped, synth_dir):
    long = generate_long(shipped, THREE_STEPS, seed=0)
    joints = long.motion.joints
    assert joints.shape == (600, 22, 3) and np.isfinite(joints).all()  # exactly the 30 s asked for
    # steps and bridges tile the motion in order
    ranges = sorted(long.segments + long.joins)
    assert ranges[0][0] == 0 and ranges[-1][1] == 600 and all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    assert [s.text for s in long.steps] == [s.text for s in THREE_STEPS] and len(long.joins) == 2
    steps = np.linalg.norm(np.diff(joints, axis=0), axis=-1).max(-1)
    for start, end in long.joins:
        assert steps[start - 2 : end + 2].max() <= _largest_real_step(synth_dir)
    assert {ref.caption for ref in long.motion.context}  # each step kept its retrieved context


def test_a_step_longer_than_a_clip_goes_on_instead_of_being_cut(shipped, monkeypatch):
    calls = []
    original = shipped.continuation_codes
    monkeypatch.setattr(shipped, "continuation_codes", lambda *a, **k: calls.append(a) or original(*a, **k))
    longest = shipped.seconds_range()[1]
    long = generate_long(shipped, [Step("a person walks forward", 2.5 * longest)], seed=0)
    assert len(long.motion.joints) == round(2.5 * longest * shipped.config.fps / 4) * 4
    assert len(calls) == 2 and long.joins == []  # two continuation rounds, no bridge within one step


def test_steps_too_short_for_their_transitions_and_bad_transitions_are_refused(shipped):
    with pytest.raises(UserInputError, match="too short for its transitions"):
        generate_long(shipped, [Step("walk", 0.4), Step("sit", 4)], transition_seconds=1.0)
    with pytest.raises(UserInputError, match="between 0 and 5 seconds"):
        generate_long(shipped, THREE_STEPS, transition_seconds=float("nan"))
    plain = generate_long(shipped, [Step("a person walks forward", 3), Step("a person sits down", 3)], transition_seconds=0, seed=0)
    assert plain.joins == [(60, 60)] and len(plain.motion.joints) == 120


def test_generate_cli_writes_long_motions(run_cli, tmp_path, shipped):
    timeline = tmp_path / "t.jsonl"
    timeline.write_text('{"text": "a person walks forward", "seconds": 4}\n{"text": "a person sits down", "seconds": 3}\n')
    code, out, _ = run_cli("generate", "--timeline", timeline, "-o", tmp_path / "t.npy", "--seed", "0", "--candidates", "1")
    assert code == 0 and np.load(tmp_path / "t.npy").shape == (140, 22, 3) and "a person sits down" in out
    code, out, _ = run_cli("generate", "a person jumps | a person sits down", "--length", "6", "-o", tmp_path / "j.npy", "--candidates", "1")
    assert code == 0 and np.load(tmp_path / "j.npy").shape == (120, 22, 3)
    code, out, _ = run_cli("generate", "a person walks forward", "--length", "15", "-o", tmp_path / "w.npy", "--candidates", "1")
    assert code == 0 and np.load(tmp_path / "w.npy").shape == (300, 22, 3)
    for args, message in [
        (["a | | b"], "is empty"),
        ([], "give either a TEXT or --timeline"),
        (["walk", "--timeline", timeline], "give either a TEXT or --timeline"),
        (["--timeline", timeline, "--length", "9"], "--length does not apply to a timeline"),
        (["walk | sit", "--transition", "9"], "between 0 and 5 seconds"),
    ]:
        code, _, err = run_cli("generate", *args, "-o", tmp_path / "bad.npy")
        assert code == 2 and message in err and "Traceback" not in err
        assert not (tmp_path / "bad.npy").exists()


def test_a_tiny_trained_model_writes_timelines(tiny_model_dir):
    from remogpt.pipeline import ReMoGPT

    model = ReMoGPT.from_pretrained(tiny_model_dir)
    long = generate_long(model, [Step("a person walks forward", 3), Step("a person sits down")], seed=0)
    assert len(long.segments) == 2 and np.isfinite(long.motion.joints).all()
