"""The torch text-motion dataset: normalisation, cropping, caption choice, reproducibility and batching."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from remogpt.data.folder import Caption, HumanML3DFolder, Sample, write_motion
from remogpt.data.pairs import TextMotionDataset, collate_text_motion
from remogpt.errors import UserInputError

D = 263
CAPTIONS = [Caption(f"caption {i}", [f"word{i}/NOUN"]) for i in range(5)]


def make_samples(lengths=(250, 60, 43)):
    rng = np.random.default_rng(0)
    return [
        Sample(f"s{i}", f"s{i}", rng.normal(size=(n, D)).astype(np.float32), CAPTIONS[: 1 + i * 2])
        for i, n in enumerate(lengths)
    ]


@pytest.fixture
def stats():
    rng = np.random.default_rng(1)
    return rng.normal(size=D).astype(np.float32), rng.uniform(0.5, 2.0, size=D).astype(np.float32)


def test_items_are_normalised_windows_of_the_sample(stats):
    mean, std = stats
    samples = make_samples()
    data = TextMotionDataset(samples, mean, std, max_frames=196, crop="none")
    item = data[0]
    assert set(item) == {"name", "motion", "length", "caption", "tokens"}
    assert item["motion"].dtype == torch.float32 and item["motion"].shape == (196, D) and item["length"] == 196
    np.testing.assert_allclose(item["motion"].numpy(), (samples[0].features[:196] - mean) / std, rtol=1e-5, atol=1e-5)
    assert (item["caption"], item["tokens"]) == ("caption 0", ["word0/NOUN"])
    assert data[2]["length"] == 43


def test_random_crop_is_a_window_and_respects_unit(stats):
    mean, std = stats
    samples = make_samples()
    data = TextMotionDataset(samples, mean, std, max_frames=196, unit=4, seed=0)
    starts = set()
    for epoch in range(8):
        data.set_epoch(epoch)
        item = data[0]
        assert item["length"] == 196
        raw = item["motion"].numpy() * std + mean
        start = int(np.argmin(np.abs(samples[0].features[:, 0] - raw[0, 0])))
        np.testing.assert_allclose(raw, samples[0].features[start : start + 196], atol=1e-4)
        starts.add(start)
    assert len(starts) > 1
    assert data[2]["length"] == 40  # 43 frames -> a multiple of 4


def test_seeded_draws_are_reproducible_and_change_with_epoch(stats):
    mean, std = stats
    samples = make_samples()
    first = TextMotionDataset(samples, mean, std, seed=7)
    second = TextMotionDataset(samples, mean, std, seed=7)
    draws = [(first[2]["caption"], first[0]["motion"][0, 0].item()) for _ in range(3)]
    assert draws == [(second[2]["caption"], second[0]["motion"][0, 0].item()) for _ in range(3)]
    per_epoch = set()
    for epoch in range(20):
        first.set_epoch(epoch)
        per_epoch.add(first[2]["caption"])
    assert len(per_epoch) > 2 and per_epoch <= {c.text for c in CAPTIONS}


def test_unseeded_dataset_draws_every_caption(stats):
    torch.manual_seed(0)
    data = TextMotionDataset(make_samples(), *stats)
    assert {data[2]["caption"] for _ in range(60)} == {c.text for c in CAPTIONS}


def test_collate_pads_and_masks(stats):
    data = TextMotionDataset(make_samples(), *stats, crop="none")
    batch = next(iter(DataLoader(data, batch_size=3, collate_fn=collate_text_motion)))
    assert batch["motion"].shape == (3, 196, D)
    assert batch["lengths"].tolist() == [196, 60, 43] and batch["lengths"].dtype == torch.long
    assert batch["mask"].dtype == torch.bool and batch["mask"].sum(1).tolist() == [196, 60, 43]
    assert (batch["motion"][1, 60:] == 0).all() and (batch["motion"][1, :60] != 0).any()
    assert batch["names"] == ["s0", "s1", "s2"] and len(batch["captions"]) == len(batch["tokens"]) == 3


def test_dataset_from_a_folder(tmp_path):
    rng = np.random.default_rng(2)
    write_motion(tmp_path, "000001", features=rng.normal(size=(80, D)), captions=CAPTIONS[:2])
    write_motion(tmp_path, "000002", features=rng.normal(size=(50, D)), captions=[Caption("x", ["x/X"], 0.5, 3.0)])
    clips = np.concatenate([HumanML3DFolder(tmp_path).load_features(i) for i in ("000001", "000002")])
    folder = HumanML3DFolder(tmp_path)
    data = TextMotionDataset(folder.samples("all"), clips.mean(0), clips.std(0) + 1e-3, seed=0)
    assert [data[i]["name"] for i in range(len(data))] == ["000001", "000002@0.5-3.0"]
    assert data[1]["length"] == 40 and data[1]["caption"] == "x"


def test_bad_arguments(stats):
    mean, std = stats
    with pytest.raises(UserInputError, match="crop"):
        TextMotionDataset(make_samples(), mean, std, crop="center")
    with pytest.raises(UserInputError, match="no captions"):
        TextMotionDataset([Sample("a", "a", np.zeros((50, D), np.float32), [])], mean, std)
    with pytest.raises(UserInputError, match=r"expected \(T, 263\)"):
        TextMotionDataset([Sample("a", "a", np.zeros((50, 251), np.float32), CAPTIONS)], mean, std)
