"""Text-motion retrieval metrics with TMR's four protocols (docs evaluation.md §4), plain numpy.

Every protocol works on a gallery of N (caption, motion) pairs, one caption per motion, with pair i's caption and
motion the ground truth of each other; similarity is the cosine in the shared space.

- (a) all:        the whole split as one gallery.
- (b) threshold:  as (a), but a gallery item whose caption has sentence cosine >= `threshold` (0.9) with the query's
                  caption also counts as a hit (TMR writes this as 0.95 on the (cos + 1) / 2 scale).
- (c) dissimilar: a 100-pair subset whose captions are mutually dissimilar (greedy farthest-point selection on the
                  sentence embeddings, seeded), as one gallery.
- (d) batches:    galleries of 32 pairs (shuffled with seed 0, the last incomplete batch dropped), metrics averaged.

Ranks are 1-based; tied similarities share the average of the positions they occupy.
"""

from __future__ import annotations

import numpy as np

from ..errors import UserInputError

PROTOCOLS = {"a": "all", "b": "threshold", "c": "dissimilar subset", "d": "batches of 32"}
RECALL_AT = (1, 2, 3, 5, 10)
THRESHOLD = 0.9
DISSIMILAR_SIZE = 100
BATCH_SIZE = 32
SEED = 0


def ground_truth_ranks(similarity: np.ndarray, target: np.ndarray | None = None) -> np.ndarray:
    """1-based rank of each query's ground truth in its row, ties averaged.

    `target` (Q,) is the similarity value that counts as the hit (default: the diagonal).
    """
    similarity = np.asarray(similarity, dtype=np.float64)
    target = np.diag(similarity) if target is None else np.asarray(target, dtype=np.float64)
    higher = (similarity > target[:, None]).sum(1)
    equal = (similarity == target[:, None]).sum(1)
    return 1.0 + higher + 0.5 * (np.maximum(equal, 1) - 1)


def rank_metrics(ranks: np.ndarray) -> dict[str, float]:
    """R@k in percent and the median rank."""
    ranks = np.asarray(ranks, dtype=np.float64)
    metrics = {f"R@{k}": float(100.0 * np.mean(ranks <= k)) for k in RECALL_AT}
    metrics["MedR"] = float(np.median(ranks))
    return metrics


def _threshold_targets(similarity: np.ndarray, same_caption: np.ndarray) -> np.ndarray:
    """Best similarity among the gallery items that count as hits (the ground truth always does)."""
    masked = np.where(same_caption, similarity, -np.inf)
    return masked.max(1)


def gallery_metrics(
    text: np.ndarray,
    motion: np.ndarray,
    sentence: np.ndarray | None = None,
    threshold: float | None = None,
) -> dict[str, dict[str, float]]:
    """Metrics of one gallery in both directions: {"t2m": {...}, "m2t": {...}}."""
    similarity = np.asarray(text, np.float64) @ np.asarray(motion, np.float64).T
    t2m_target = m2t_target = None
    if threshold is not None:
        if sentence is None:
            raise ValueError("the threshold protocol needs sentence embeddings")
        hits = (np.asarray(sentence, np.float64) @ np.asarray(sentence, np.float64).T) >= threshold
        np.fill_diagonal(hits, True)
        t2m_target = _threshold_targets(similarity, hits)
        m2t_target = _threshold_targets(similarity.T, hits)
    return {
        "t2m": rank_metrics(ground_truth_ranks(similarity, t2m_target)),
        "m2t": rank_metrics(ground_truth_ranks(similarity.T, m2t_target)),
    }


def dissimilar_subset(sentence: np.ndarray, size: int = DISSIMILAR_SIZE, seed: int = SEED) -> np.ndarray:
    """Indices of `size` items whose captions are mutually dissimilar: start from a seeded random item, then add
    the item whose highest cosine to those already chosen is lowest."""
    sentence = np.asarray(sentence, np.float64)
    count = len(sentence)
    size = min(size, count)
    rng = np.random.default_rng(seed)
    chosen = [int(rng.integers(count))]
    closest = sentence @ sentence[chosen[0]]
    closest[chosen[0]] = np.inf
    for _ in range(size - 1):
        pick = int(np.argmin(closest))
        chosen.append(pick)
        closest = np.maximum(closest, sentence @ sentence[pick])
        closest[chosen] = np.inf
    return np.array(chosen, dtype=np.int64)


def _average(rows: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    return {
        direction: {key: float(np.mean([row[direction][key] for row in rows])) for key in rows[0][direction]}
        for direction in rows[0]
    }


def evaluate_protocol(
    protocol: str,
    text: np.ndarray,
    motion: np.ndarray,
    sentence: np.ndarray | None = None,
) -> dict:
    """Retrieval metrics of (N, d) caption and motion embeddings (pair i matches i) under protocol a, b, c or d.

    Returns {"protocol", "protocol_name", "gallery_size", "galleries", "t2m": {...}, "m2t": {...}}.
    """
    if protocol not in PROTOCOLS:
        raise UserInputError(f"protocol '{protocol}' is unknown, expected one of {', '.join(PROTOCOLS)}.")
    text = np.asarray(text)
    motion = np.asarray(motion)
    if text.shape != motion.shape or text.ndim != 2:
        raise ValueError(f"text {text.shape} and motion {motion.shape} embeddings must be the same (N, d)")
    count = len(text)
    if protocol in "bc" and sentence is None:
        raise ValueError(f"protocol ({protocol}) needs the captions' sentence embeddings")
    minimum = BATCH_SIZE if protocol == "d" else 2
    if count < minimum:
        raise UserInputError(f"protocol ({protocol}) needs at least {minimum} text-motion pairs, the split has {count}.")

    if protocol == "a":
        galleries, result = 1, gallery_metrics(text, motion)
        size = count
    elif protocol == "b":
        galleries, result = 1, gallery_metrics(text, motion, sentence, threshold=THRESHOLD)
        size = count
    elif protocol == "c":
        subset = dissimilar_subset(sentence)
        galleries, result = 1, gallery_metrics(text[subset], motion[subset])
        size = len(subset)
    else:
        order = np.random.default_rng(SEED).permutation(count)
        batches = [order[i : i + BATCH_SIZE] for i in range(0, count - BATCH_SIZE + 1, BATCH_SIZE)]
        galleries, result = len(batches), _average([gallery_metrics(text[b], motion[b]) for b in batches])
        size = BATCH_SIZE
    return {
        "protocol": protocol,
        "protocol_name": PROTOCOLS[protocol],
        "gallery_size": size,
        "galleries": galleries,
        **result,
    }


def markdown_table(rows: list[tuple[str, dict]]) -> str:
    """A markdown table of named results (each from evaluate_protocol), one row per (name, direction)."""
    header = "| model | protocol | direction | " + " | ".join(f"R@{k}" for k in RECALL_AT) + " | MedR |"
    lines = [header, "|" + "---|" * (4 + len(RECALL_AT))]
    for name, result in rows:
        label = f"({result['protocol']}) {result['protocol_name']}, gallery {result['gallery_size']}"
        if result["galleries"] > 1:
            label += f" x {result['galleries']}"
        for direction, title in (("t2m", "text->motion"), ("m2t", "motion->text")):
            values = result[direction]
            cells = " | ".join(f"{values[f'R@{k}']:.2f}" for k in RECALL_AT)
            lines.append(f"| {name} | {label} | {title} | {cells} | {values['MedR']:.1f} |")
    return "\n".join(lines) + "\n"
