"""Feature statistics: HumanML3D's Mean/Std with group averaging, and moving between two sets of statistics."""

from __future__ import annotations

from typing import Iterable

import numpy as np

from .features import feature_groups


def mean_std(features: Iterable[np.ndarray] | np.ndarray, num_joints: int = 22) -> tuple[np.ndarray, np.ndarray]:
    """Mean and Std over all frames of all clips, each std replaced by its group average (HumanML3D's mean_variance).

    Groups are the seven of `feature_groups`. A group whose average std is 0 (a constant group, e.g. contacts in a
    dataset with no stepping) gets std 1 so normalisation stays finite; real datasets never hit this.
    """
    # Streaming sums (shifted by the first clip's mean for numerical stability), so the full HumanML3D with
    # mirrors (about 8 GB as one float64 array) never has to sit in memory at once.
    clips = [features] if isinstance(features, np.ndarray) else features
    count, shift, total, total_sq = 0, None, None, None
    for clip in clips:
        clip = np.asarray(clip, dtype=np.float64)
        if shift is None:
            shift = clip.mean(axis=0)
            total, total_sq = np.zeros_like(shift), np.zeros_like(shift)
        centred = clip - shift
        total += centred.sum(axis=0)
        total_sq += (centred**2).sum(axis=0)
        count += len(clip)
    if not count:
        raise ValueError("mean_std needs at least one frame")
    mean = shift + total / count
    std = np.sqrt(np.maximum(total_sq / count - (total / count) ** 2, 0.0))
    for group in feature_groups(num_joints).values():
        average = std[group].mean()
        std[group] = average if average > 0 else 1.0
    return mean.astype(np.float32), std.astype(np.float32)


def normalize(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return (x - mean) / std


def denormalize(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return x * std + mean


def renormalize(x, from_mean, from_std, to_mean, to_std):
    """Features normalised with one set of statistics -> normalised with another (model -> evaluator statistics).

    Works on numpy arrays and torch tensors alike (plain arithmetic).
    """
    return (x * from_std + from_mean - to_mean) / to_std
