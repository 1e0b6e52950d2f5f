"""`remogpt data synth`: the HumanML3D-layout folder it writes, its splits, mirrors, statistics and rare split."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from remogpt.data.check import check_folder
from remogpt.data.folder import HumanML3DFolder, parse_caption_file
from remogpt.data.synth import RARE_THRESHOLD, synthesize
from remogpt.data.synth.captions import mirror_text
from remogpt.data.synth.quality import bone_length_error, foot_skating, ground_penetration
from remogpt.data.synth.tagger import token_field
from remogpt.motion.features import features_to_joints
from remogpt.motion.stats import mean_std

MOTIONS = 30


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("synth") / "data"
    return root, synthesize(root, MOTIONS, seed=0)


def _lines(root: Path, name: str) -> list[str]:
    return (root / f"{name}.txt").read_text().split()


def test_folder_passes_the_data_check(dataset):
    root, summary = dataset
    assert check_folder(root) == []
    folder = HumanML3DFolder(root)
    assert folder.num_joints == 22 and folder.fps == 20
    samples = folder.samples("all")
    assert len(samples) == 2 * MOTIONS  # every clip is within the loaders' 40..199 frames
    assert summary["motions"] == MOTIONS and summary["clips_with_mirrors"] == 2 * MOTIONS
    assert (root / "synth.json").is_file() and json.loads((root / "synth.json").read_text()) == summary


def test_splits_partition_the_motions_and_keep_mirrors_together(dataset):
    root, _ = dataset
    train, val, test = (set(_lines(root, s)) for s in ("train", "val", "test"))
    assert not (train & val or train & test or val & test)
    assert train | val | test == set(_lines(root, "all")) and len(train | val | test) == 2 * MOTIONS
    assert set(_lines(root, "train_val")) == train | val
    for split in (train, val, test):
        assert all(("M" + i in split) for i in split if not i.startswith("M"))
    assert len(train) > len(test) > len(val) > 0


def test_captions_are_three_tagged_lines_and_mirrors_swap_sides(dataset):
    root, _ = dataset
    swapped = 0
    for motion_id in _lines(root, "all"):
        if motion_id.startswith("M"):
            continue
        original = parse_caption_file(root / "texts" / f"{motion_id}.txt")
        mirrored = parse_caption_file(root / "texts" / f"M{motion_id}.txt")
        assert len(original) == len(mirrored) == 3
        for caption, twin in zip(original, mirrored):
            assert caption.is_whole_clip and caption.tokens == token_field(caption.text)
            assert twin.text == mirror_text(caption.text) and twin.tokens == token_field(twin.text)
            swapped += twin.text != caption.text
    assert swapped > 0


def test_motions_are_plausible_and_mirrors_match(dataset):
    root, summary = dataset
    folder = HumanML3DFolder(root)
    for motion_id in _lines(root, "all")[:12]:
        joints = folder.load_joints(motion_id)
        features = folder.load_features(motion_id)
        assert np.allclose(features_to_joints(features), joints, atol=1e-5)
        assert bone_length_error(joints) < 1e-4
        assert abs(joints[..., 1].min()) < 1e-5 and ground_penetration(joints) < 0.01
        assert foot_skating(joints) < 0.2
    original, mirror = folder.load_joints("000000"), folder.load_joints("M000000")
    assert original.shape == mirror.shape
    assert np.allclose(original[:, 0, 1], mirror[:, 0, 1], atol=0.02)  # same pelvis height (to the floor shift)
    assert summary["foot_skating_m_per_s"] < 0.1 and summary["foot_skating_mirrors_m_per_s"] < 0.1
    assert summary["ground_penetration_max_m"] < 1e-3 and summary["bone_length_error_max_m"] < 1e-5  # float32 files


def test_statistics_come_from_the_train_split(dataset):
    root, _ = dataset
    folder = HumanML3DFolder(root)
    mean, std = folder.mean_std()
    expected = mean_std([folder.load_features(i) for i in _lines(root, "train")], 22)
    assert np.allclose(mean, expected[0], atol=1e-5) and np.allclose(std, expected[1], atol=1e-5)


def test_rare_split_matches_the_composition_counts(dataset):
    root, summary = dataset
    records = {r["id"]: r for r in map(json.loads, (root / "compositions.jsonl").read_text().splitlines())}
    assert set(records) == set(_lines(root, "all"))
    counts = Counter(k for i in _lines(root, "train") for k in records[i]["keys"])
    expected = [i for i in _lines(root, "test") if min(counts[k] for k in records[i]["keys"]) < RARE_THRESHOLD]
    rare = _lines(root, "rare_test")
    assert rare == expected and 0 < len(rare) == summary["splits"]["rare_test"]
    record = records["M000000"]
    assert record["mirror_of"] == "000000" and len(record["segments"]) == len(records["000000"]["segments"])
    ends = [s["end"] for s in records["000000"]["segments"]]
    assert ends == sorted(ends) and ends[-1] * 20 == pytest.approx(len(HumanML3DFolder(root).load_features("000000")), abs=1)


def test_same_seed_same_dataset_any_worker_count(tmp_path):
    first = synthesize(tmp_path / "a", 8, seed=4, workers=1)
    second = synthesize(tmp_path / "b", 8, seed=4, workers=2)
    third = synthesize(tmp_path / "c", 8, seed=5, workers=1)
    for name in ("new_joint_vecs/000003.npy", "new_joints/M000005.npy", "texts/000002.txt", "train.txt", "Mean.npy",
                 "compositions.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "texts/000002.txt").read_bytes() != (tmp_path / "c" / "texts/000002.txt").read_bytes()
    first.pop("seconds"), second.pop("seconds"), third.pop("seconds")
    assert first == second != third


def test_cli_writes_a_dataset_and_refuses_a_full_folder(run_cli, tmp_path):
    code, out, err = run_cli("data", "synth", tmp_path / "d", "--motions", "4", "--seed", "1")
    assert code == 0, err
    assert "wrote 8 clips" in out
    assert check_folder(tmp_path / "d") == []
    code, _, err = run_cli("data", "synth", tmp_path / "d", "--motions", "4")
    assert code == 2 and "not empty" in err
    code, _, err = run_cli("data", "synth", tmp_path / "e", "--motions", "0")
    assert code == 2 and "--motions" in err


def test_timed_captions_describe_one_long_segment_and_become_samples_of_their_own(tmp_path):
    root = tmp_path / "timed"
    summary = synthesize(root, MOTIONS, seed=0, timed_share=1.0)
    compositions = {json.loads(line)["id"]: json.loads(line) for line in (root / "compositions.jsonl").read_text().splitlines()}
    timed = 0
    for motion_id, record in compositions.items():
        captions = parse_caption_file(root / "texts" / f"{motion_id}.txt")
        spans = {(s["start"], s["end"]) for s in record["segments"] if s["end"] - s["start"] >= 2.0}
        whole, parts = [c for c in captions if c.is_whole_clip], [c for c in captions if not c.is_whole_clip]
        assert len(whole) == 3 and len(parts) == (1 if len(record["segments"]) > 1 and spans else 0), motion_id
        for caption in parts:  # the span of one of its segments, tagged like every caption
            timed += 1
            assert (caption.start, caption.end) in spans and caption.tokens == token_field(caption.text)
            if record["mirror_of"]:
                original = parse_caption_file(root / "texts" / f"{record['mirror_of']}.txt")[-1]
                assert caption.text == mirror_text(original.text) and (caption.start, caption.end) == (original.start, original.end)
    assert timed == summary["timed_captions"]["motions"] > 0
    samples = HumanML3DFolder(root).samples("all")
    crops = [s for s in samples if s.name != s.motion_id]
    assert len(crops) == timed and all("@" in s.name and 40 <= len(s.features) < 200 for s in crops)
    assert check_folder(root) == []
    synthesize(tmp_path / "plain", MOTIONS, seed=0)  # the timed draws have their own stream: the rest is unchanged
    for motion_id in compositions:
        a = parse_caption_file(root / "texts" / f"{motion_id}.txt")[:3]
        assert a == parse_caption_file(tmp_path / "plain" / "texts" / f"{motion_id}.txt")
        assert np.array_equal(np.load(root / "new_joint_vecs" / f"{motion_id}.npy"), np.load(tmp_path / "plain" / "new_joint_vecs" / f"{motion_id}.npy"))
