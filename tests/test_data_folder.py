"""HumanML3D-layout folders: split files, caption lines, the reference length filter and timed-slice samples."""

from __future__ import annotations

import numpy as np
import pytest

from remogpt.data.folder import (
    Caption,
    HumanML3DFolder,
    format_caption_line,
    is_mirror,
    mirror_id,
    parse_caption_file,
    parse_caption_line,
    write_motion,
    write_split,
    write_stats,
)
from remogpt.errors import UserInputError

WHOLE = Caption("a person walks forward.", ["a/DET", "person/NOUN", "walk/VERB", "forward/ADV"])


def features(frames: int, dim: int = 263, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(frames, dim)).astype(np.float32)


# ------------------------------------------------------------------------------------------ real data
@pytest.mark.parametrize(
    "split, count", [("train", 23384), ("val", 1460), ("test", 4384), ("all", 29228), ("train_val", 24844)]
)
def test_official_split_files(humanml3d_dir, split, count):
    ids = HumanML3DFolder(humanml3d_dir).ids(split)
    assert len(ids) == count == len(set(ids))
    # HumanML3D keeps each clip and its mirror in the same split.
    assert sum(is_mirror(i) for i in ids) == count // 2
    known = set(ids)
    assert all(mirror_id(i) in known for i in ids)


def test_real_folder_format_and_files(humanml3d_dir):
    folder = HumanML3DFolder(humanml3d_dir)
    assert (folder.feature_dim, folder.num_joints, folder.fps) == (263, 22, 20.0)
    assert folder.load_features("012314").shape == (170, 263)
    assert folder.load_features("012314") is folder.load_features("012314")  # cached
    assert folder.load_joints("012314").shape == (170, 22, 3)
    mean, std = folder.mean_std()
    assert mean.shape == std.shape == (263,) and mean.dtype == np.float32 and (std > 0).all()
    assert folder.load_many(["012314", "000001"]).keys() == {"012314"}  # ids without files are left out


def test_unknown_split_and_missing_folder(humanml3d_dir, tmp_path):
    with pytest.raises(UserInputError, match="split 'nope'"):
        HumanML3DFolder(humanml3d_dir).ids("nope")
    with pytest.raises(UserInputError, match="does not exist"):
        HumanML3DFolder(tmp_path / "absent")


def test_mirror_ids():
    assert mirror_id("000021") == "M000021"
    assert mirror_id("M000021") == "000021"
    assert is_mirror("M000021") and not is_mirror("000021")


# ------------------------------------------------------------------------------------------ caption lines
@pytest.mark.parametrize(
    "line, start, end",
    [
        ("a man kicks with his left leg.#a/DET man/NOUN kick/VERB with/ADP his/PRON left/ADJ leg/NOUN#0.0#0.0", 0, 0),
        ("someone jumps twice.#someone/PRON jump/VERB twice/ADV#1.5#4.0", 1.5, 4.0),
        ("he waves#he/PRON wave/VERB#0.0#3.25", 0.0, 3.25),
    ],
)
def test_caption_line_round_trip(line, start, end):
    caption = parse_caption_line(line)
    assert (caption.start, caption.end) == (start, end)
    assert caption.is_whole_clip == (start == end == 0)
    assert all("/" in t for t in caption.tokens)
    assert format_caption_line(caption) == line
    assert parse_caption_line(format_caption_line(caption)) == caption


def test_nan_span_reads_as_whole_clip():
    # HumanML3D's text_process writes empty from/to cells as 'nan'; the reference loaders read them as 0.
    assert parse_caption_line("a man waves.#a/DET man/NOUN wave/VERB#nan#nan").is_whole_clip


@pytest.mark.parametrize(
    "line, complaint",
    [
        ("a man waves.#a/DET man/NOUN wave/VERB#0.0", "3 '#'-separated fields"),
        ("a man # waves.#a/DET man/NOUN#0.0#0.0", "5 '#'-separated fields"),
        ("#a/DET#0.0#0.0", "empty caption"),
        ("a man waves.#a/DET man wave/VERB#0.0#0.0", "token 'man'"),
        ("a man waves.#a/DET man/NOUNS#0.0#0.0", "token 'man/NOUNS'"),
        ("a man waves.#a/DET man/NOUN#zero#1.0", "start time 'zero'"),
        ("a man waves.#a/DET man/NOUN#-1.0#1.0", "start time '-1.0'"),
        ("a man waves.#a/DET man/NOUN#3.0#1.0", "end > start"),
    ],
)
def test_malformed_caption_line_names_file_and_line(tmp_path, line, complaint):
    path = tmp_path / "000001.txt"
    path.write_text(f"{format_caption_line(WHOLE)}\n{line}\n")
    with pytest.raises(UserInputError, match="line 2 of") as error:
        parse_caption_file(path)
    assert complaint in str(error.value) and "000001.txt" in str(error.value)


# ------------------------------------------------------------------------------------------ samples
@pytest.fixture
def toy_folder(tmp_path):
    """Clips chosen to exercise each branch of the reference loader."""
    timed = Caption("he jumps.", ["he/PRON", "jump/VERB"], 1.0, 4.0)  # frames 20:80 -> 60 frames, kept
    too_short = Caption("he stops.", ["he/PRON", "stop/VERB"], 0.5, 1.0)  # 10 frames, dropped
    same_span = Caption("a jump.", ["a/DET", "jump/NOUN"], 1.0, 4.0)  # same span: its own sample
    write_motion(tmp_path, "000001", features=features(100, seed=1), captions=[WHOLE, timed, too_short, same_span])
    write_motion(tmp_path, "000002", features=features(39, seed=2), captions=[WHOLE])  # < 40 frames
    write_motion(tmp_path, "000003", features=features(40, seed=3), captions=[WHOLE])  # exactly 40: kept
    write_motion(tmp_path, "000004", features=features(200, seed=4), captions=[WHOLE, timed])  # >= 200: all dropped
    write_motion(tmp_path, "000005", features=features(120, seed=5), captions=[timed])  # only timed captions
    write_motion(tmp_path, "000006", features=features(60, seed=6))  # no caption file: skipped
    write_split(tmp_path, "train", ["000001", "000002", "000003", "000004", "000005", "000006", "099999"])
    return tmp_path


def test_samples_follow_the_reference_filter(toy_folder):
    samples = HumanML3DFolder(toy_folder).samples("train")
    names = [s.name for s in samples]
    assert names == ["000001", "000001@1.0-4.0", "000001@1.0-4.0_2", "000003", "000005@1.0-4.0"]
    assert len(set(names)) == len(names)
    by_name = {s.name: s for s in samples}
    clip = features(100, seed=1)
    np.testing.assert_array_equal(by_name["000001"].features, clip)
    np.testing.assert_array_equal(by_name["000001@1.0-4.0"].features, clip[20:80])
    assert [c.text for c in by_name["000001"].captions] == [WHOLE.text]
    assert by_name["000001@1.0-4.0_2"].captions[0].text == "a jump."
    assert by_name["000005@1.0-4.0"].motion_id == "000005" and by_name["000005@1.0-4.0"].length == 60


def test_sample_length_bounds_are_adjustable(toy_folder):
    folder = HumanML3DFolder(toy_folder)
    names = {s.name for s in folder.samples("train", min_frames=10, max_frames=None)}
    assert {"000002", "000004", "000004@1.0-4.0", "000001@0.5-1.0"} <= names


def test_kit_folder_uses_kit_rules(tmp_path):
    write_motion(tmp_path, "00001", features=features(30, dim=251), joints=np.zeros((30, 21, 3)), captions=[WHOLE])
    write_motion(tmp_path, "00002", features=features(23, dim=251), captions=[WHOLE])
    folder = HumanML3DFolder(tmp_path)
    assert (folder.feature_dim, folder.num_joints, folder.fps) == (251, 21, 12.5)
    assert [s.name for s in folder.samples("all")] == ["00001"]  # KIT keeps T >= 24
    assert folder.load_joints("00001").shape == (30, 21, 3)


# ------------------------------------------------------------------------------------------ writer
def test_writer_round_trip_and_leaves_no_temporaries(tmp_path):
    clip = features(50)
    joints = np.random.default_rng(1).normal(size=(50, 22, 3))
    captions = [WHOLE, Caption("he turns.", ["he/PRON", "turn/VERB"], 0.5, 2.0)]
    write_motion(tmp_path, "M000007", features=clip, joints=joints, captions=captions)
    write_stats(tmp_path, clip.mean(0), clip.std(0))
    write_split(tmp_path, "test", ["M000007"])
    folder = HumanML3DFolder(tmp_path)
    np.testing.assert_array_equal(folder.load_features("M000007"), clip)
    np.testing.assert_allclose(folder.load_joints("M000007"), joints.astype(np.float32))
    assert folder.load_captions("M000007") == captions
    assert folder.ids("test") == ["M000007"]
    np.testing.assert_allclose(folder.mean_std()[0], clip.mean(0))
    assert not [p for p in tmp_path.rglob(".*")]


@pytest.mark.parametrize(
    "kwargs, complaint",
    [
        ({"features": np.zeros((10, 262))}, "expected (T, 263)"),
        ({"features": np.full((10, 263), np.nan)}, "NaN"),
        ({"joints": np.zeros((10, 22, 2))}, "expected (T, 22, 3)"),
        ({"features": np.zeros((10, 263)), "joints": np.zeros((11, 22, 3))}, "disagree"),
        ({"captions": []}, "at least one"),
        ({"captions": [Caption("a # b", ["a/DET"])]}, "'#'"),
    ],
)
def test_writer_rejects_bad_input_and_writes_nothing(tmp_path, kwargs, complaint):
    with pytest.raises(UserInputError) as error:
        write_motion(tmp_path, "000001", **kwargs)
    assert complaint in str(error.value)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_reader_rejects_files_of_the_wrong_width(tmp_path):
    write_motion(tmp_path, "000001", features=features(50))
    write_motion(tmp_path, "000002", features=features(50, dim=251))
    folder = HumanML3DFolder(tmp_path)
    with pytest.raises(UserInputError, match=r"expected \(T, 263\)"):
        folder.load_features("000002")
    with pytest.raises(UserInputError, match="does not exist"):
        folder.load_features("000003")


def test_a_pass_over_the_whole_dataset_keeps_nothing(humanml3d_dir, run_cli, tmp_path):
    """Statistics stream the clips (cache=False) and equal those of all clips held at once."""
    from remogpt.motion.stats import mean_std

    folder = HumanML3DFolder(humanml3d_dir)
    ids = [i for i in folder.ids("all") if folder.has_motion(i)]
    streamed = [folder.load_features(i, cache=False) for i in ids]
    assert not folder._features  # nothing kept
    code, _, err = run_cli("data", "stats", humanml3d_dir, "--out", tmp_path)
    assert code == 0, err
    mean, std = mean_std(streamed, folder.num_joints)
    np.testing.assert_allclose(np.load(tmp_path / "Mean.npy"), mean, rtol=1e-6)
    np.testing.assert_allclose(np.load(tmp_path / "Std.npy"), std, rtol=1e-6)
