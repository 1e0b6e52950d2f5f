"""The text-to-motion protocol (HumanML3D, Guo et al.): R-precision, FID, MM-Dist, Diversity, MultiModality.

One replication, batched over the whole split:
1. reference pass: random crops of every test motion -> evaluator embeddings (the FID reference);
2. evaluation pass: one random caption and a fresh random crop per sample; the real-motion row embeds those crops,
   a model generates one motion per (caption, crop length) in ONE call;
3. R-precision and MM-Dist in shuffled batches of 32 (last partial batch dropped; the same batches for every row),
   FID against the reference pass, Diversity over 300 random pairs;
4. MultiModality: 100 random samples x 30 generations (one call), 10 random pairs each.
The reported value is the mean over replications with the 95% half-width 1.96 * std / sqrt(n).
Rare-motion variants (evaluation.md §5) reuse the per-sample hits and distances of step 3.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

import numpy as np

from . import metrics
from .guo import TextMotionEvaluator
from .protocol import EvalSplit

REAL_ROW = "real motion"
RECONSTRUCTION_ROW = "tokenizer reconstruction"  # encode -> decode the real crops: the ceiling of a token model
RETRIEVAL_ROW = "retrieval only"  # decode the top-1 text->motion reference: what the context already holds


@dataclass
class T2MSettings:
    replications: int = 20
    batch_size: int = metrics.R_PRECISION_BATCH
    diversity_pairs: int = metrics.DIVERSITY_PAIRS
    mm_texts: int = 100
    mm_generations: int = 30
    mm_pairs: int = metrics.MM_PAIRS
    seed: int = 0
    # The reference protocol embeds generated motions at their own length; cutting them to the crop length is a
    # variant some papers use, so it is a setting and written into every result.
    cut_to_reference_length: bool = False
    rare_fraction: float = 0.05
    rare_bins: int = 10
    # The model's own reference rows (tokenizer reconstruction, retrieval only) when it offers them.
    reference_rows: bool = True


def matching_metrics(
    text_embeddings: np.ndarray,
    motion_embeddings: np.ndarray,
    rng: np.random.Generator,
    batch_size: int,
    subsets: dict[str, Callable[[np.ndarray], tuple[np.ndarray, str]]] | None = None,
) -> dict[str, float]:
    """R-Top1/2/3 and MM-Dist over shuffled batches, plus the same on each subset.

    A subset is a function of the evaluated sample indices returning (mask or bin labels, "mask" | "bins").
    """
    order, hits, matched = metrics.batched_matching(text_embeddings, motion_embeddings, rng, batch_size)
    out: dict[str, float] = {}

    def put(prefix: str, h: np.ndarray, d: np.ndarray | float) -> None:
        top = h if h.ndim == 1 else metrics.r_precision(h)
        for k in range(3):
            out[f"{prefix}r_top{k + 1}"] = float(top[k])
        out[f"{prefix}mm_dist"] = float(np.mean(d))

    put("", hits, matched)
    for name, select in (subsets or {}).items():
        labels, kind = select(order)
        if kind == "mask":
            if labels.any():
                put(f"{name}/", hits[labels], matched[labels])
        else:
            put(f"{name}/", metrics.balanced_mean(hits.astype(np.float64), labels), metrics.balanced_mean(matched, labels))
    return out


class T2MEvaluation:
    """Runs the protocol for the real motions and optionally one model on one split with one evaluator."""

    def __init__(
        self,
        evaluator: TextMotionEvaluator,
        split: EvalSplit,
        settings: T2MSettings,
        caption_rarity: np.ndarray | None = None,
        sample_subsets: dict[str, np.ndarray] | None = None,
        progress: Callable[[str], None] | None = None,
    ):
        self.evaluator = evaluator
        self.split = split
        self.settings = settings
        self.caption_rarity = caption_rarity
        self.sample_subsets = {k: v for k, v in (sample_subsets or {}).items() if v is not None and v.any()}
        self.progress = progress or (lambda message: None)
        self.text_embeddings = evaluator.embed_texts(split.tokens)  # every caption once; the encoder is deterministic
        self.timings: dict[str, float] = {"generate": 0.0, "embed": 0.0, "metrics": 0.0}
        self.counts: dict[str, int] = {"generated": 0, "embedded": 0}  # motions, for timing projections

    def _embed(self, motions: list[np.ndarray]) -> np.ndarray:
        start = time.perf_counter()
        out = self.evaluator.embed_motions(motions)
        self.timings["embed"] += time.perf_counter() - start
        self.counts["embedded"] += len(motions)
        return out

    def _generate(self, model: Any, texts: list[str], lengths: np.ndarray, num_samples: int) -> list[np.ndarray]:
        start = time.perf_counter()
        motions = model.generate(texts, [int(v) for v in lengths], num_samples=num_samples)
        self.timings["generate"] += time.perf_counter() - start
        self.counts["generated"] += len(motions)
        if len(motions) != len(texts) * num_samples:
            raise RuntimeError(f"the model returned {len(motions)} motions for {len(texts)} texts x {num_samples}.")
        if self.settings.cut_to_reference_length:
            motions = [m[: int(lengths[i // num_samples])] for i, m in enumerate(motions)]
        # An empty or sub-unit motion cannot be embedded; pad it with its last frame (or zeros) to one unit.
        return self._padded(motions)

    def _reference_rows(self, model: Any, texts: list[str], crops: list[np.ndarray]) -> dict[str, np.ndarray]:
        """Embeddings of the rows that place a model against its own parts (interface.ReferenceRows)."""
        if not self.settings.reference_rows:
            return {}
        rows = {}
        if hasattr(model, "reconstruct"):
            rows[RECONSTRUCTION_ROW] = self._embed(model.reconstruct(crops))
        retrieved = model.retrieve_motions(texts) if hasattr(model, "retrieve_motions") else None
        if retrieved is not None:
            rows[RETRIEVAL_ROW] = self._embed(self._padded(retrieved))
        return rows

    def _padded(self, motions: list[np.ndarray]) -> list[np.ndarray]:
        unit = self.evaluator.config.unit_length
        return [m if len(m) >= unit else _pad_to(m, unit, self.evaluator.config.dim_pose) for m in motions]

    def _subsets(self, captions: np.ndarray) -> dict[str, Callable[[np.ndarray], tuple[np.ndarray, str]]]:
        subsets: dict[str, Callable[[np.ndarray], tuple[np.ndarray, str]]] = {}
        if self.caption_rarity is not None:
            rarity = self.caption_rarity[captions]
            top = metrics.top_fraction(rarity, self.settings.rare_fraction)
            bins = metrics.rarity_bins(rarity, self.settings.rare_bins)
            subsets["top5"] = lambda order: (top[order], "mask")
            subsets["balanced"] = lambda order: (bins[order], "bins")
        for name, mask in self.sample_subsets.items():
            subsets[name] = lambda order, mask=mask: (mask[order], "mask")
        return subsets

    def replicate(self, index: int, model: Any | None) -> dict[str, dict[str, float]]:
        s, split, unit = self.settings, self.split, self.evaluator.config.unit_length
        limit = self.evaluator.config.max_motion_length
        rng = np.random.default_rng([s.seed, index])
        reference = self._embed(split.crops(*split.crop(rng, unit, limit)))
        captions = split.pick_captions(rng)
        lengths, starts = split.crop(rng, unit, limit)
        texts = [split.texts[c] for c in captions]
        crops = split.crops(lengths, starts)
        rows = {REAL_ROW: self._embed(crops)}
        if model is not None:
            _seed_sampling(s.seed, index)
            rows.update(self._reference_rows(model, texts, crops))
            rows["model"] = self._embed(self._generate(model, texts, lengths, 1))
        mm_rows = rng.choice(len(split), min(s.mm_texts, len(split)), replace=False)
        pairs = min(s.diversity_pairs, len(split))
        batching_seed = int(rng.integers(2**31))
        diversity_seed = int(rng.integers(2**31))  # the same pairs for every row
        subsets = self._subsets(captions)

        results = {}
        for name, embeddings in rows.items():
            start = time.perf_counter()
            row = matching_metrics(
                self.text_embeddings[captions], embeddings, np.random.default_rng(batching_seed), s.batch_size, subsets
            )
            row["fid"] = metrics.fid(reference, embeddings)
            row["diversity"] = metrics.diversity(embeddings, np.random.default_rng(diversity_seed), pairs)
            self.timings["metrics"] += time.perf_counter() - start
            results[name] = row
        if model is not None and s.mm_generations >= 2:
            generated = self._generate(model, [texts[i] for i in mm_rows], lengths[mm_rows], s.mm_generations)
            embedded = self._embed(generated).reshape(len(mm_rows), s.mm_generations, -1)
            results["model"]["multimodality"] = metrics.multimodality(embedded, rng, min(s.mm_pairs, s.mm_generations))
        return results

    def run(self, model: Any | None = None) -> dict[str, Any]:
        """All replications; returns {"rows": {row: {metric: {"mean", "ci"}}}, "replications": [...], ...}."""
        start = time.perf_counter()
        replications = []
        for index in range(self.settings.replications):
            replications.append(self.replicate(index, model))
            self.progress(f"replication {index + 1}/{self.settings.replications} done")
        rows: dict[str, dict[str, dict[str, float]]] = {}
        for name in replications[0]:
            keys = dict.fromkeys(key for r in replications for key in r[name])  # a subset can miss a replication
            rows[name] = {}
            for key in keys:
                mean, half = metrics.confidence_interval([r[name][key] for r in replications if key in r[name]])
                rows[name][key] = {"mean": mean, "ci": half}
        s, split = self.settings, self.split
        return {
            "protocol": "t2m",
            "rows": rows,
            "replications": replications,
            "settings": asdict(self.settings),
            "effective": {
                "samples": len(split),
                "captions": len(split.texts),
                "evaluated_per_batching": len(split) // s.batch_size * s.batch_size,
                "diversity_pairs": min(s.diversity_pairs, len(split)),
                "mm_texts": min(s.mm_texts, len(split)),
                "subsets": sorted((["top5", "balanced"] if self.caption_rarity is not None else []) + list(self.sample_subsets)),
            },
            "timings_s": {**{k: round(v, 3) for k, v in self.timings.items()}, "total": round(time.perf_counter() - start, 3)},
            "counts": dict(self.counts),
        }


def _pad_to(motion: np.ndarray, length: int, dim: int) -> np.ndarray:
    motion = np.asarray(motion, dtype=np.float32).reshape(-1, dim)
    filler = motion[-1:] if len(motion) else np.zeros((1, dim), dtype=np.float32)
    return np.concatenate([motion, np.repeat(filler, length - len(motion), axis=0)])


def _seed_sampling(seed: int, index: int) -> None:
    """Seed torch's global generator for a replication, so a sampling model's motions (candidates, MultiModality
    draws) repeat run to run; its own stream, so the crops and batches are those of an unseeded model."""
    import torch

    torch.manual_seed(int(np.random.default_rng([seed, index, 1]).integers(2**62)))
