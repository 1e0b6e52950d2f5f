"""The text-to-motion metrics of Guo et al. as small pure functions over embeddings (numpy in, numbers out).

Every function takes the random generator it needs, so a protocol run is reproducible from its seed.
See docs/evaluation.md; the reference implementations are in Guo et al.'s utils/metrics.py.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg

R_PRECISION_BATCH = 32
DIVERSITY_PAIRS = 300
MM_PAIRS = 10


def euclidean_distance_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, D), (M, D) -> (N, M) Euclidean distances (float64, clipped at 0 before the square root)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    squared = (a * a).sum(1)[:, None] - 2.0 * a @ b.T + (b * b).sum(1)[None, :]
    return np.sqrt(np.maximum(squared, 0.0))


def batch_hits(distances: np.ndarray, top_k: int = 3) -> np.ndarray:
    """(B, B) text x motion distances, true pairs on the diagonal -> (B, top_k) bool: true motion within top 1..k.

    The ranking is a stable sort of each row, like the reference's argsort.
    """
    ranks = np.argsort(distances, axis=1, kind="stable")[:, :top_k]
    found = ranks == np.arange(len(distances))[:, None]
    return np.logical_or.accumulate(found, axis=1)


def batched_matching(
    text_embeddings: np.ndarray,
    motion_embeddings: np.ndarray,
    rng: np.random.Generator,
    batch_size: int = R_PRECISION_BATCH,
    top_k: int = 3,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-sample R-precision hits and matched distances in shuffled batches of `batch_size`, last partial batch dropped.

    Returns (indices (n,), hits (n, top_k) bool, matched distances (n,)) for the n = batch_size * (N // batch_size)
    samples that landed in a full batch, in the shuffled order. Averaging the hits gives R-precision Top-1..k and
    averaging the distances gives MM-Dist, exactly as the reference loader (shuffle=True, drop_last=True) does.
    """
    # A split smaller than one batch (tiny test sets) is scored as one batch of all its samples: usable, but its
    # R-precision is not comparable with 32-sample galleries.
    batch_size = max(1, min(batch_size, len(text_embeddings)))
    count = len(text_embeddings) // batch_size * batch_size
    order = rng.permutation(len(text_embeddings))[:count]
    hits = np.zeros((count, top_k), dtype=bool)
    matched = np.zeros(count, dtype=np.float64)
    for start in range(0, count, batch_size):
        rows = order[start : start + batch_size]
        distances = euclidean_distance_matrix(text_embeddings[rows], motion_embeddings[rows])
        hits[start : start + batch_size] = batch_hits(distances, top_k)
        matched[start : start + batch_size] = np.diag(distances)
    return order, hits, matched


def r_precision(hits: np.ndarray) -> np.ndarray:
    """(n, k) hits -> (k,) fractions Top-1..k."""
    return hits.mean(axis=0)


def gaussian_statistics(embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (rows are samples, unbiased like np.cov)."""
    embeddings = np.asarray(embeddings, dtype=np.float64)
    return embeddings.mean(axis=0), np.cov(embeddings, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float = 1e-6) -> float:
    """Fréchet distance between two Gaussians: |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))."""
    diff = mu1 - mu2
    with warnings.catch_warnings():  # a singular product is handled below
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():  # singular product: regularise both, as the reference does
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real  # numerical noise from sqrtm; the true root of a PSD product is real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def fid(real_embeddings: np.ndarray, generated_embeddings: np.ndarray) -> float:
    """FID between Gaussian fits of two embedding sets."""
    return frechet_distance(*gaussian_statistics(real_embeddings), *gaussian_statistics(generated_embeddings))


def diversity(embeddings: np.ndarray, rng: np.random.Generator, pairs: int = DIVERSITY_PAIRS) -> float:
    """Mean distance between `pairs` random pairs (two draws without replacement, like the reference)."""
    if len(embeddings) < pairs:
        raise ValueError(f"diversity needs at least {pairs} embeddings, got {len(embeddings)}.")
    first = rng.choice(len(embeddings), pairs, replace=False)
    second = rng.choice(len(embeddings), pairs, replace=False)
    return float(np.linalg.norm(embeddings[first] - embeddings[second], axis=1).mean())


def multimodality(embeddings: np.ndarray, rng: np.random.Generator, pairs: int = MM_PAIRS) -> float:
    """(texts, generations, D) -> mean distance of `pairs` random generation pairs per text."""
    texts, generations, _ = embeddings.shape
    if generations < pairs:
        raise ValueError(f"multimodality needs at least {pairs} generations per text, got {generations}.")
    first = rng.choice(generations, pairs, replace=False)
    second = rng.choice(generations, pairs, replace=False)
    return float(np.linalg.norm(embeddings[:, first] - embeddings[:, second], axis=2).mean())


def confidence_interval(values) -> tuple[float, float]:
    """Mean and the 95% half-width 1.96 * std / sqrt(n) (population std, as the reference)."""
    values = np.asarray(values, dtype=np.float64)
    return float(values.mean()), float(1.96 * values.std() / np.sqrt(len(values)))


# ----------------------------------------------------------------------------------------- rare motions (§5)
def rarity(test_sentence_embeddings: np.ndarray, train_sentence_embeddings: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Distance from each test caption's sentence embedding to its nearest training caption (farther = rarer)."""
    nearest = np.empty(len(test_sentence_embeddings), dtype=np.float64)
    for start in range(0, len(test_sentence_embeddings), chunk):
        block = euclidean_distance_matrix(test_sentence_embeddings[start : start + chunk], train_sentence_embeddings)
        nearest[start : start + chunk] = block.min(axis=1)
    return nearest


def top_fraction(rarity_scores: np.ndarray, fraction: float = 0.05) -> np.ndarray:
    """Boolean mask of the `fraction` rarest samples (at least one)."""
    count = max(1, int(round(fraction * len(rarity_scores))))
    mask = np.zeros(len(rarity_scores), dtype=bool)
    mask[np.argsort(-rarity_scores, kind="stable")[:count]] = True
    return mask


def rarity_bins(rarity_scores: np.ndarray, bins: int = 10) -> np.ndarray:
    """Bin index 0..bins-1 per sample: equal-count bins by rarity rank (0 = most common)."""
    ranks = np.empty(len(rarity_scores), dtype=np.int64)
    ranks[np.argsort(rarity_scores, kind="stable")] = np.arange(len(rarity_scores))
    return ranks * bins // max(1, len(rarity_scores))


def balanced_mean(values: np.ndarray, bins_of_samples: np.ndarray, bins: int = 10):
    """Mean of the per-bin means, so every rarity bin weighs the same (empty bins are skipped)."""
    means = [values[bins_of_samples == b].mean(axis=0) for b in range(bins) if (bins_of_samples == b).any()]
    return np.mean(means, axis=0)
