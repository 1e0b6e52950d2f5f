"""How good a tokenizer is: joint error of reconstructions and how much of the codebook it uses.

MPJPE follows MotionGPT's reconstruction metric (its tokenizer: 55.8 mm on HumanML3D): joints recovered from the
features with recover_from_ric, both poses moved so the root (pelvis) joint is at the origin, mean Euclidean error
over joints and all frames of all motions, in millimetres. `global_mpjpe_mm` is the same without moving the root, so
it also counts drift of the recovered trajectory.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..motion.features import features_to_joints


def joint_errors(reference: np.ndarray, reconstruction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame mean joint error in metres (root-aligned, global) between two feature arrays of equal length."""
    ref = features_to_joints(reference)
    rec = features_to_joints(reconstruction)
    global_error = np.linalg.norm(ref - rec, axis=-1).mean(axis=-1)
    aligned = np.linalg.norm((ref - ref[:, :1]) - (rec - rec[:, :1]), axis=-1).mean(axis=-1)
    return aligned, global_error


def codebook_usage(tokens: Sequence[Sequence[int]], codebook_size: int) -> tuple[float, float]:
    """(fraction of the codebook used, perplexity = exp(entropy of the code frequencies))."""
    flat = np.concatenate([np.asarray(t, dtype=np.int64) for t in tokens]) if tokens else np.zeros(0, np.int64)
    flat = flat[flat >= 0]
    if flat.size == 0:
        return 0.0, 0.0
    counts = np.bincount(flat, minlength=codebook_size).astype(np.float64)
    probs = counts[counts > 0] / counts.sum()
    return float((counts > 0).sum() / codebook_size), float(np.exp(-(probs * np.log(probs)).sum()))


def reconstruction_metrics(
    originals: Sequence[np.ndarray],
    reconstructions: Sequence[np.ndarray],
    tokens: Sequence[Sequence[int]],
    codebook_size: int,
) -> dict[str, float]:
    """MPJPE (root-aligned and global, mm) over all frames, codebook usage and perplexity."""
    aligned, global_ = [], []
    for original, reconstruction in zip(originals, reconstructions):
        a, g = joint_errors(original[: len(reconstruction)], reconstruction)
        aligned.append(a)
        global_.append(g)
    usage, perplexity = codebook_usage(tokens, codebook_size)
    return {
        "mpjpe_mm": float(np.concatenate(aligned).mean() * 1000) if aligned else float("nan"),
        "global_mpjpe_mm": float(np.concatenate(global_).mean() * 1000) if global_ else float("nan"),
        "codebook_usage": usage,
        "perplexity": perplexity,
        "motions": len(aligned),
        "frames": int(sum(len(a) for a in aligned)),
    }


def evaluate_tokenizer(model, motions: Sequence[np.ndarray], batch_size: int = 64) -> dict[str, float]:
    """Encode and decode whole motions (raw features) and score the reconstructions."""
    tokens = model.encode(motions, batch_size=batch_size)
    reconstructions = model.decode(tokens, batch_size=batch_size)
    return reconstruction_metrics(motions, reconstructions, tokens, model.config.codebook_size)
