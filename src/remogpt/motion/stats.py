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
    data = features if isinstance(features, np.ndarray) else np.concatenate(list(features), axis=0)
    data = np.asarray(data, dtype=np.float64)
    mean = data.mean(axis=0)
    std = data.std(axis=0)
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
