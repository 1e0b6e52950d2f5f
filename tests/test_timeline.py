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
    for bad in (float("nan"), -2, 0):
        with pytest.raises(UserInputError, match="must last a positive number of seconds"):
            generate_long(shipped, [Step("walk", bad)])
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


@pytest.fixture(scope="module")
def client(tiny_model_dir):
    from fastapi.testclient import TestClient

    from remogpt.serve.app import create_app

    with TestClient(create_app(tiny_model_dir)) as test_client:
        yield test_client


def test_server_writes_long_motions_from_steps_and_separators(client):
    body = client.post("/api/generate", json={"text": "a person walks forward | a person sits down", "length_seconds": 6, "seed": 0}).json()
    assert len(body["joints"]) == 120 and [s["text"] for s in body["segments"]] == ["a person walks forward", "a person sits down"]
    assert body["segments"][0]["start"] == 0 and body["segments"][-1]["end"] == 6.0
    steps = [{"text": "a person walks forward", "seconds": 3}, {"text": "a person waves", "seconds": 3}]
    body = client.post("/api/generate", json={"steps": steps, "transition_seconds": 0, "seed": 1}).json()
    assert len(body["joints"]) == 120 and body["segments"][1] == {"text": "a person waves", "start": 3.0, "end": 6.0}
    longer = client.post("/api/generate", json={"text": "a person walks forward", "length_seconds": 15, "seed": 0}).json()
    assert len(longer["joints"]) == 300 and len(longer["segments"]) == 1  # above one clip: continued, not cut
    one = client.post("/api/generate", json={"text": "a person walks forward", "seed": 0}).json()
    assert "segments" not in one and isinstance(one["notices"], list)  # (a tiny model's notices mean little)
    limits = client.get("/api/info").json()["limits"]
    assert limits["max_steps"] == 8 and limits["max_motion_seconds"] == 60


@pytest.mark.parametrize(
    "body, message",
    [
        ({"text": "walk", "steps": [{"text": "walk"}]}, "either text or steps"),
        ({}, "either text or steps"),
        ({"text": " | ".join(["walk"] * 9)}, "1 to 8 steps"),
        ({"steps": [{"text": "walk", "seconds": -1}]}, "positive number"),
        ({"steps": [{"text": "walk", "seconds": 3}], "length_seconds": 4}, "does not apply to steps"),
        ({"text": "walk | sit", "length_seconds": 200}, "at most 60 s"),
        ({"text": "walk | ", "length_seconds": 4}, "step 2 is empty"),
        ({"text": "walk | sit", "transition_seconds": 9}, "between 0 and 5 seconds"),
        ({"text": "walk | sit", "length_seconds": 1}, "too short for its transitions"),
    ],
)
def test_server_refuses_bad_long_motions_in_one_sentence(client, body, message):
    response = client.post("/api/generate", json=body)
    assert response.status_code == 400 and message in response.json()["error"], response.json()


def test_server_continues_a_stored_motion(client):
    generated = client.post("/api/generate", json={"text": "a person walks forward", "length_seconds": 2, "seed": 0}).json()
    body = client.post("/api/continue", json={"id": generated["id"], "seconds": 3, "seed": 0}).json()
    assert len(body["joints"]) == 40 + 60 and body["id"] != generated["id"] and body["title"].endswith("(continued)")
    # the start is kept: the first frames are the given motion's (through the tokenizer, decoded with the rest)
    assert np.abs(np.array(body["joints"][:4]) - np.array(generated["joints"][:4])).max() < 0.2
    hits = client.get("/api/search", params={"q": "a person walks", "k": 1}).json()["results"]["text->motion"]
    assert client.post("/api/continue", json={"id": hits[0]["id"], "seconds": 2}).status_code == 200  # a database motion
    for request, status, message in [
        ({"id": "0" * 16}, 404, "unknown or has expired"),
        ({"id": "../../etc/passwd"}, 404, "unknown or has expired"),
        ({"id": generated["id"], "seconds": 0.01}, 400, "between"),
        ({"id": generated["id"], "seed": -3}, 400, "seed must be between"),
    ]:
        response = client.post("/api/continue", json=request)
        assert response.status_code == status and message in response.json()["error"]


def test_text_guided_prediction_and_inbetweening_keep_the_given_motions(run_cli, tmp_path, shipped):
    code, _, _ = run_cli("generate", "a person walks forward", "--length", "3", "-o", tmp_path / "walk.npy", "--features", "--seed", "0")
    assert code == 0
    walk = np.load(tmp_path / "walk.npy")
    code, _, err = run_cli("predict", tmp_path / "walk.npy", "--text", "a person sits down", "--seconds", "3", "-o", tmp_path / "p.npy", "--features")
    assert code == 0, err
    continued = np.load(tmp_path / "p.npy")
    assert continued.shape == (120, 263)  # the 3 s given, then 3 s new (bridge and the text's motion)
    code, _, err = run_cli("inbetween", tmp_path / "walk.npy", tmp_path / "walk.npy", "--text", "a person jumps", "--seconds", "2", "-o", tmp_path / "i.npy")
    assert code == 0 and np.load(tmp_path / "i.npy").shape == (160, 22, 3), err
    # the library: the given codes are kept as they are, listed as segments
    codes = list(map(int, shipped.motion_tokenizer.encode([walk])[0]))
    long = generate_long(shipped, [Step("a person jumps", 2)], 0.5, seed=0, before=codes, after=codes)
    assert long.motion.tokens[: len(codes)] == codes and long.motion.tokens[-len(codes) :] == codes
    assert [s.text for s in long.steps] == ["(the given start)", "a person jumps", "(the given end)"]
    code, _, err = run_cli("predict", tmp_path / "walk.npy", "--text", "🙂", "-o", tmp_path / "bad.npy")
    assert code == 2 and "no word this model knows" in err and not (tmp_path / "bad.npy").exists()
