"""Torch datasets for the tokenizer: random fixed-length windows for training, whole motions for validation."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ..data.folder import HumanML3DFolder
from ..errors import UserInputError


def load_split(folder: HumanML3DFolder, split: str, min_frames: int = 1) -> list[np.ndarray]:
    """Raw features of every motion of a split that has a feature file and at least `min_frames` frames."""
    motions = folder.load_many(folder.ids(split))
    return [m for m in motions.values() if len(m) >= min_frames]


class WindowDataset(Dataset):
    """Normalised windows of `window` frames (as T2M-GPT's VQMotionDataset). An item is (motion index, epoch), as
    training.StepBatches yields it: the window's start is drawn from (seed, epoch, index), so everything random about
    a batch follows the step.

    Motions shorter than the window are left out.
    """

    def __init__(self, motions: Sequence[np.ndarray], mean: np.ndarray, std: np.ndarray, window: int = 64, seed: int = 0):
        self.window, self.seed = int(window), seed
        self.motions = [((m - mean) / std).astype(np.float32) for m in motions if len(m) >= self.window]
        if not self.motions:
            raise UserInputError(f"no training motion has at least {self.window} frames (the training window).")

    def __len__(self) -> int:
        return len(self.motions)

    def __getitem__(self, item: tuple[int, int]) -> torch.Tensor:
        index, epoch = item
        motion = self.motions[index]
        start = np.random.default_rng((self.seed, epoch, index)).integers(0, len(motion) - self.window + 1)
        return torch.from_numpy(motion[start : start + self.window])


def window_batches(size: int, batch_size: int, seed: int):
    """epoch -> that epoch's batches of a seeded permutation (cycled when the dataset is smaller than a batch), and
    the batches an epoch holds: for training.StepBatches, which makes them a function of (seed, step)."""
    per_epoch = max(1, size // batch_size)

    def epoch_batches(epoch: int) -> list[list[int]]:
        rng = np.random.default_rng((seed, epoch))
        order = np.concatenate([rng.permutation(size) for _ in range(-(-batch_size // size))])
        return [order[p * batch_size : (p + 1) * batch_size].tolist() for p in range(per_epoch)]

    return epoch_batches, per_epoch


class WholeMotionDataset(Dataset):
    """Normalised whole motions cut to a multiple of `multiple` frames, with their raw features for metrics."""

    def __init__(self, motions: Sequence[np.ndarray], mean: np.ndarray, std: np.ndarray, multiple: int = 4):
        cut = [m[: len(m) // multiple * multiple] for m in motions if len(m) >= multiple]
        self.raw = [np.ascontiguousarray(m, dtype=np.float32) for m in cut]
        self.normalized = [((m - mean) / std).astype(np.float32) for m in self.raw]

    def __len__(self) -> int:
        return len(self.normalized)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return torch.from_numpy(self.normalized[index]), index


def pad_collate(items: list[tuple[torch.Tensor, int]]) -> dict[str, torch.Tensor]:
    """Pad motions to the longest in the batch: {"x": (B, T, D), "mask": (B, T) bool, "index": (B,)}."""
    length = max(x.shape[0] for x, _ in items)
    x = torch.zeros(len(items), length, items[0][0].shape[1])
    mask = torch.zeros(len(items), length, dtype=torch.bool)
    for row, (motion, _) in enumerate(items):
        x[row, : len(motion)] = motion
        mask[row, : len(motion)] = True
    return {"x": x, "mask": mask, "index": torch.tensor([i for _, i in items])}
