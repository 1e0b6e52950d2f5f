"""The torch text-motion dataset shared by the retriever and evaluator trainers.

Each access picks one of the sample's captions at random and a window of at most max_frames frames (a multiple of
`unit` when unit > 1), like Guo et al.'s loaders. Randomness: with seed=None the global torch RNG is used (DataLoader
workers get distinct seeds); with an integer seed every draw comes from (seed, epoch, index), so results do not depend
on worker count or access order; call set_epoch(e), or index with (index, epoch), to get fresh draws each epoch.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import UserInputError
from .folder import Sample

CROP_MODES = ("random", "none")


class TextMotionDataset(Dataset):
    """Items: {name, motion (T, D) float32 normalised tensor, length, caption, tokens}."""

    def __init__(
        self,
        samples: Sequence[Sample],
        mean: np.ndarray,
        std: np.ndarray,
        max_frames: int = 196,
        unit: int = 1,
        crop: str = "random",
        seed: int | None = None,
    ):
        if crop not in CROP_MODES:
            raise UserInputError(f"crop '{crop}' is not one of {', '.join(CROP_MODES)}.")
        if max_frames < 1 or unit < 1:
            raise UserInputError(f"max_frames ({max_frames}) and unit ({unit}) must be positive.")
        mean = np.asarray(mean, dtype=np.float32)
        std = np.asarray(std, dtype=np.float32)
        for sample in samples:
            if not sample.captions:
                raise UserInputError(f"sample '{sample.name}' has no captions.")
            if sample.features.ndim != 2 or sample.features.shape[1] != mean.shape[0] or not len(sample.features):
                raise UserInputError(
                    f"sample '{sample.name}' has features {sample.features.shape}, expected (T, {mean.shape[0]})."
                )
        if mean.shape != std.shape or mean.ndim != 1:
            raise UserInputError(f"mean {mean.shape} and std {std.shape} must both be (D,).")
        self.samples = list(samples)
        self.mean = torch.from_numpy(mean)
        self.std = torch.from_numpy(std)
        self.max_frames = int(max_frames)
        self.unit = int(unit)
        self.crop = crop
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.samples)

    def _generator(self, index: int, epoch: int) -> torch.Generator | None:
        if self.seed is None:
            return None
        # One independent stream per (seed, epoch, index): reproducible whatever the worker layout.
        key = np.random.SeedSequence([self.seed, epoch, index]).generate_state(1, dtype=np.uint64)[0]
        return torch.Generator().manual_seed(int(key) & 0x7FFF_FFFF_FFFF_FFFF)

    def crop_length(self, frames: int) -> int:
        length = min(frames, self.max_frames)
        if self.unit > 1 and length >= self.unit:
            length = length // self.unit * self.unit
        return length

    def __getitem__(self, item: int | tuple[int, int]) -> dict:
        """An index (this dataset's epoch), or (index, epoch) from a step-based sampler (training.StepBatches)."""
        index, epoch = item if isinstance(item, tuple) else (item, self.epoch)
        sample = self.samples[index]
        generator = self._generator(index, epoch)
        pick = int(torch.randint(len(sample.captions), (1,), generator=generator)) if len(sample.captions) > 1 else 0
        caption = sample.captions[pick]

        frames = sample.features.shape[0]
        length = self.crop_length(frames)
        start = 0
        if self.crop == "random" and frames > length:
            start = int(torch.randint(frames - length + 1, (1,), generator=generator))
        window = torch.from_numpy(np.array(sample.features[start : start + length], dtype=np.float32))
        motion = (window - self.mean) / self.std
        return {
            "name": sample.name,
            "motion": motion,
            "length": length,
            "caption": caption.text,
            "tokens": list(caption.tokens),
        }


def collate_text_motion(batch: Sequence[dict]) -> dict:
    """Pad motions with zeros to the longest in the batch; mask is True on real frames."""
    lengths = torch.tensor([item["length"] for item in batch], dtype=torch.long)
    longest = int(lengths.max())
    dim = batch[0]["motion"].shape[1]
    motion = torch.zeros(len(batch), longest, dim, dtype=batch[0]["motion"].dtype)
    for row, item in enumerate(batch):
        motion[row, : item["length"]] = item["motion"]
    mask = torch.arange(longest)[None, :] < lengths[:, None]
    return {
        "names": [item["name"] for item in batch],
        "motion": motion,
        "lengths": lengths,
        "mask": mask,
        "captions": [item["caption"] for item in batch],
        "tokens": [item["tokens"] for item in batch],
    }
