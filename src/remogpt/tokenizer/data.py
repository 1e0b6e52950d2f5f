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
    """Normalised windows of `window` frames (as T2M-GPT's VQMotionDataset). An item is (motion index, draw): the
    window's start is drawn from `draw`, so the sampler (StepBatchSampler) decides everything random about a batch.

    Motions shorter than the window are left out.
    """

    def __init__(self, motions: Sequence[np.ndarray], mean: np.ndarray, std: np.ndarray, window: int = 64):
        self.window = int(window)
        self.motions = [((m - mean) / std).astype(np.float32) for m in motions if len(m) >= self.window]
        if not self.motions:
            raise UserInputError(f"no training motion has at least {self.window} frames (the training window).")

    def __len__(self) -> int:
        return len(self.motions)

    def __getitem__(self, item: tuple[int, int]) -> torch.Tensor:
        index, draw = item
        motion = self.motions[index]
        start = np.random.default_rng(draw).integers(0, len(motion) - self.window + 1)
        return torch.from_numpy(motion[start : start + self.window])


class StepBatchSampler:
    """Batches as a function of (seed, step): the batch of step s holds the items of batch s mod B of the epoch
    s // B's permutation (B batches an epoch, each item once; a dataset smaller than a batch is cycled), each with a
    draw for its random crop. It starts at `start` (set to the global step when a run resumes) and never ends
    (training stops at max_steps), so a resumed run sees exactly the batches an uninterrupted one would have."""

    def __init__(self, size: int, batch_size: int, seed: int):
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.per_epoch = max(1, size // batch_size)
        self.start = 0

    def batch(self, step: int) -> list[tuple[int, int]]:
        epoch, position = divmod(step, self.per_epoch)
        rng = np.random.default_rng((self.seed, epoch))
        order = np.concatenate([rng.permutation(self.size) for _ in range(-(-self.batch_size // self.size))])
        chosen = order[position * self.batch_size : (position + 1) * self.batch_size]
        draws = np.random.default_rng((self.seed, epoch, position)).integers(0, 2**63 - 1, len(chosen))
        return [(int(i), int(d)) for i, d in zip(chosen, draws)]

    def __iter__(self):
        from ..training import process_rank

        rank, world = process_rank()
        step = self.start
        while True:
            yield self.batch(step * world + rank)  # under DDP each process takes its own batch of the step
            step += 1


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
