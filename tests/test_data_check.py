"""`remogpt data check` finds each kind of problem, and `remogpt data stats` reproduces HumanML3D's Std structure."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from remogpt.data.check import check_folder, summarize
from remogpt.data.folder import Caption, HumanML3DFolder, format_caption_line, write_motion, write_split, write_stats

CAPTION = Caption("a person waves.", ["a/DET", "person/NOUN", "wave/VERB"])
TIMED = Caption("then jumps.", ["then/ADV", "jump/VERB"], 1.0, 3.0)
IDS = ["000001", "000002", "000003", "M000001"]


@pytest.fixture
def clean(tmp_path):
    """A small folder with every file the layout asks for, all valid."""
    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    clips = []
    for motion_id in IDS:
        clip = rng.normal(size=(60, 263)).astype(np.float32)
        clips.append(clip)
        write_motion(root, motion_id, features=clip, joints=rng.normal(size=(60, 22, 3)), captions=[CAPTION, TIMED])
    data = np.concatenate(clips)
    write_stats(root, data.mean(0), data.std(0))
    for split, ids in {"train": IDS[:2], "val": IDS[2:3], "test": IDS[3:], "all": IDS}.items():
        write_split(root, split, ids)
    return root


def test_clean_folder_has_no_problems(clean, run_cli):
    assert check_folder(clean) == []
    code, out, _ = run_cli("data", "check", clean)
    assert code == 0 and "no problems found" in out


def _set_line(path, text):
    path.write_text(f"{format_caption_line(CAPTION)}\n{text}\n")


def _rewrite_npy(path, array):
    path.unlink()
    np.save(path, array)


# Each breaks one thing; expected: (kind, file the problem names, words of the message).
BREAKAGES = {
    "missing texts folder": (lambda r: shutil.rmtree(r / "texts"), "missing", "texts", "folder is missing"),
    "missing features folder": (
        lambda r: shutil.rmtree(r / "new_joint_vecs"), "missing", "new_joint_vecs", "folder is missing"),
    "missing caption file": (
        lambda r: (r / "texts/000002.txt").unlink(), "missing", "new_joint_vecs/000002.npy", "no caption file"),
    "missing joints file": (
        lambda r: (r / "new_joints/000002.npy").unlink(), "missing", "new_joint_vecs/000002.npy", "no joints file"),
    "caption without motion": (
        lambda r: (r / "texts/000009.txt").write_text(format_caption_line(CAPTION)), "orphan", "texts/000009.txt",
        "no feature file"),
    "features of wrong width": (
        lambda r: _rewrite_npy(r / "new_joint_vecs/000002.npy", np.zeros((60, 262), np.float32)), "shape",
        "new_joint_vecs/000002.npy", "(60, 262)"),
    "features with no frames": (
        lambda r: _rewrite_npy(r / "new_joint_vecs/000002.npy", np.zeros((0, 263), np.float32)), "shape",
        "new_joint_vecs/000002.npy", "T > 0"),
    "joints of wrong shape": (
        lambda r: _rewrite_npy(r / "new_joints/000002.npy", np.zeros((60, 21, 3), np.float32)), "shape",
        "new_joints/000002.npy", "(60, 21, 3)"),
    "frame counts disagree": (
        lambda r: _rewrite_npy(r / "new_joints/000002.npy", np.zeros((59, 22, 3), np.float32)), "frames",
        "new_joints/000002.npy", "59 frames"),
    "NaN in features": (
        lambda r: _rewrite_npy(r / "new_joint_vecs/000002.npy", np.full((60, 263), np.nan, np.float32)), "nonfinite",
        "new_joint_vecs/000002.npy", "NaN"),
    "inf in joints": (
        lambda r: _rewrite_npy(r / "new_joints/000002.npy", np.pad(np.zeros((59, 22, 3)), ((1, 0), (0, 0), (0, 0)),
                                                                     constant_values=np.inf)), "nonfinite",
        "new_joints/000002.npy", "frame 0"),
    "string array": (
        lambda r: _rewrite_npy(r / "new_joint_vecs/000002.npy", np.array(["x"] * 60)), "dtype",
        "new_joint_vecs/000002.npy", "dtype"),
    "empty npy": (
        lambda r: (r / "new_joint_vecs/000002.npy").write_bytes(b""), "empty", "new_joint_vecs/000002.npy", "0 bytes"),
    "truncated npy": (
        lambda r: os.truncate(r / "new_joint_vecs/000002.npy", 5000), "truncated", "new_joint_vecs/000002.npy",
        "truncated"),
    "not an npy": (
        lambda r: (r / "new_joint_vecs/000002.npy").write_text("hello"), "truncated", "new_joint_vecs/000002.npy",
        "not a readable .npy"),
    "empty caption file": (
        lambda r: (r / "texts/000002.txt").write_text(""), "empty", "texts/000002.txt", "empty"),
    "empty caption": (lambda r: _set_line(r / "texts/000002.txt", "#a/DET#0.0#0.0"), "caption", "texts/000002.txt",
                      "empty caption"),
    "blank line": (lambda r: _set_line(r / "texts/000002.txt", "\n" + format_caption_line(CAPTION)), "caption",
                   "texts/000002.txt", "line 2 is blank"),
    "wrong field count": (lambda r: _set_line(r / "texts/000002.txt", "a man waves#a/DET#0.0"), "caption",
                          "texts/000002.txt", "3 '#'-separated fields"),
    "bad POS token": (lambda r: _set_line(r / "texts/000002.txt", "a man waves#a/DET man_NOUN#0.0#0.0"), "caption",
                      "texts/000002.txt", "token 'man_NOUN'"),
    "no tokens": (lambda r: _set_line(r / "texts/000002.txt", "a man waves##0.0#0.0"), "caption", "texts/000002.txt",
                  "no word/POS tokens"),
    "non-numeric time": (lambda r: _set_line(r / "texts/000002.txt", "a man waves#a/DET#0.0#soon"), "caption",
                         "texts/000002.txt", "end time 'soon'"),
    "negative time": (lambda r: _set_line(r / "texts/000002.txt", "a man waves#a/DET#-0.5#2.0"), "caption",
                      "texts/000002.txt", "start time '-0.5'"),
    "reversed span": (lambda r: _set_line(r / "texts/000002.txt", "a man waves#a/DET#2.0#1.0"), "caption",
                      "texts/000002.txt", "end > start"),
    "span after the clip": (lambda r: _set_line(r / "texts/000002.txt", "a man waves#a/DET#3.0#5.0"), "caption",
                            "texts/000002.txt", "after the clip ends (60 frames)"),
    "split id without files": (lambda r: write_split(r, "val", ["000003", "000404"]), "split", "val.txt",
                               "'000404' has no feature file"),
    "duplicate split id": (lambda r: write_split(r, "val", ["000003", "000003"]), "split", "val.txt",
                           "listed 2 times"),
    "empty split file": (lambda r: write_split(r, "val", []), "split", "val.txt", "no ids"),
    "missing split file": (lambda r: (r / "test.txt").unlink(), "missing", "test.txt", "missing"),
    "missing Mean": (lambda r: (r / "Mean.npy").unlink(), "missing", "Mean.npy", "missing"),
    "Std of wrong shape": (lambda r: _rewrite_npy(r / "Std.npy", np.ones(251, np.float32)), "stats", "Std.npy",
                           "expected (263,)"),
    "zero Std": (lambda r: _rewrite_npy(r / "Std.npy", np.r_[np.zeros(3), np.ones(260)].astype(np.float32)), "stats",
                 "Std.npy", "3 zero or negative"),
    "NaN in Mean": (lambda r: _rewrite_npy(r / "Mean.npy", np.full(263, np.nan, np.float32)), "nonfinite",
                    "Mean.npy", "NaN"),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_check_reports_each_problem_once(clean, breakage):
    breaker, kind, path, words = BREAKAGES[breakage]
    breaker(clean)
    problems = check_folder(clean)
    assert len(problems) == 1, [str(p) for p in problems]
    problem = problems[0]
    assert problem.kind == kind
    assert problem.path == clean / path
    assert words in problem.message


def test_check_lists_every_problem_at_once(clean, run_cli):
    for name in ("NaN in features", "bad POS token", "split id without files", "zero Std", "missing joints file"):
        BREAKAGES[name][0](clean)
    (clean / "new_joint_vecs/000003.npy").write_bytes(b"")
    assert len(check_folder(clean)) == 6
    code, out, _ = run_cli("data", "check", clean)
    lines = out.strip().splitlines()
    assert code == 1
    assert len(lines) == 7 and "6 problems" in lines[-1]
    assert any(line.startswith("new_joint_vecs/000002.npy: ") and "NaN" in line for line in lines)


def test_check_exit_code_for_a_missing_folder(tmp_path, run_cli):
    code, _, err = run_cli("data", "check", tmp_path / "absent")
    assert code == 2 and "does not exist" in err


def test_check_on_the_real_folder(humanml3d_dir):
    problems = check_folder(humanml3d_dir)
    # The real pieces lack texts/ and all but one clip: everything else is reported, the real clip is clean.
    assert not [p for p in problems if "012314" in str(p.path)]
    assert sum(p.kind == "missing" for p in problems) == 1
    assert summarize(problems).startswith(f"{len(problems)} problems")


# ------------------------------------------------------------------------------------------ stats
def test_stats_reproduces_the_official_group_structure(humanml3d_dir, tmp_path, run_cli):
    from remogpt.motion.features import feature_groups

    real = np.load(humanml3d_dir / "new_joint_vecs/012314.npy")
    rng = np.random.default_rng(3)
    clips = {"012314": real, **{f"00000{i}": rng.normal(size=(50 + i, 263)).astype(np.float32) for i in range(3)}}
    for motion_id, clip in clips.items():
        write_motion(tmp_path, motion_id, features=clip)
    write_split(tmp_path, "train", ["012314", "000000", "000404"])
    code, out, _ = run_cli("data", "stats", tmp_path)
    assert code == 0 and "4 motions" in out

    official = np.load(humanml3d_dir / "Std.npy")
    mean, std = HumanML3DFolder(tmp_path).mean_std()
    data = np.concatenate(list(clips.values())).astype(np.float64)
    np.testing.assert_allclose(mean, data.mean(0), atol=1e-5)
    for name, group in feature_groups(22).items():
        assert np.ptp(official[group]) < 1e-6, name  # the official file is constant per group ...
        assert np.ptp(std[group]) == 0, name  # ... and so is ours
        np.testing.assert_allclose(std[group][0], data.std(0)[group].mean(), rtol=1e-5)

    # --split and -o: statistics of the listed ids only, written elsewhere, missing ids skipped.
    code, out, _ = run_cli("data", "stats", tmp_path, "--split", "train", "-o", tmp_path / "out")
    assert code == 0 and "1 listed ids without a feature file skipped" in out
    split_mean = np.load(tmp_path / "out/Mean.npy")
    np.testing.assert_allclose(split_mean, np.concatenate([real, clips["000000"]]).mean(0), atol=1e-5)


def test_stats_bad_input_exits_2(tmp_path, run_cli):
    code, _, err = run_cli("data", "stats", tmp_path / "absent")
    assert code == 2 and "does not exist" in err
    write_motion(tmp_path, "000001", features=np.zeros((40, 263)))
    code, _, err = run_cli("data", "stats", tmp_path, "--split", "val")
    assert code == 2 and "split 'val'" in err
    assert not (tmp_path / "Mean.npy").exists()
