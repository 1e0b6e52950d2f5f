"""Best-of-N self-training targets: the model's own reranked samples for training captions (issue 15).

Reranking eight sampled motions with the model's retriever lifts R-Top1 from ~0.27 (one sample) to ~0.38: the model
can write good motions, it just does not write them every time. Rejection-sampling fine-tuning (expert iteration,
as in ReST / STaR) turns that search into the model itself: prompt it with training captions exactly as at
inference (references retrieved with the caption's own clip left out, as training always does; each motion its
top-1 reference's length), keep the candidate the retriever scores closest to the caption, and train on those
(caption -> kept motion) pairs beside the ground truth (`train lm --self-targets FILE`).

Each record keeps the three retriever scores that say how good the kept motion is: against its caption
(`score`), the top-1 reference's (`reference_score`) and the ground-truth clip's (`truth_score`);
`min_margin` keeps only records whose score beats the reference's by that much.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Sequence

import numpy as np

SELF_TARGETS_VERSION = 1
# a self target trains text-to-motion only, mostly with its length stated, as inference prompts (reference length)
SELF_TARGET_TASKS = {"t2m_frames": 0.5, "t2m": 0.5}


def best_of_n_targets(model, samples: Sequence, *, captions_per_clip: int = 1, batch_size: int = 32, seed: int = 0, log=print) -> list[dict]:
    """One record per (sample, caption) for the first `captions_per_clip` captions of every sample (raw features
    with captions, data.folder.Sample). `model`: a ReMoGPT with retrieval and `model.sampling.candidates` > 1."""
    from ..retrieval.database import Exclude

    if model.retriever is None or model.sampling.candidates < 2:
        raise ValueError("best-of-N targets need a model with a retriever and at least 2 candidates")
    queries = [(s, c.text) for s in samples for c in s.captions[:captions_per_clip]]
    truth = _embed_once(model, samples)
    records, start = [], time.perf_counter()
    for first in range(0, len(queries), batch_size):
        batch = queries[first : first + batch_size]
        texts = [text for _, text in batch]
        motions = model.generate_motions(texts, seed=seed + first, exclude=[Exclude(s.motion_id, text) for s, text in batch])
        text_embeddings = model.retriever.embed_texts(texts)
        kept = model.retriever.embed_motions([m.features for m in motions])
        for (sample, text), motion, t, m in zip(batch, motions, text_embeddings, kept):
            top = next((ref for ref in motion.context if ref.kind == "text->motion"), None)
            records.append({
                "name": sample.name, "motion_id": sample.motion_id, "caption": text, "codes": [int(c) for c in motion.tokens],
                "score": float(t @ m), "reference_score": float(top.similarity) if top else None,
                "truth_score": float(t @ truth[sample.name]),
            })  # fmt: skip
        log(f"self targets: {len(records)}/{len(queries)} ({time.perf_counter() - start:.0f} s)")
    return records


def _embed_once(model, samples) -> dict[str, np.ndarray]:
    embeddings = model.retriever.embed_motions([s.features for s in samples])
    return {s.name: e for s, e in zip(samples, embeddings)}


def write_self_targets(path: str | Path, records: list[dict], provenance: dict) -> Path:
    from ..io import portable, save_json

    save_json(Path(path), {"version": SELF_TARGETS_VERSION, "provenance": portable(provenance), "records": records})
    return Path(path)


def read_self_targets(path: str | Path, min_margin: float | None = None) -> list[dict]:
    """The records of a self-targets file; with `min_margin`, only those whose kept motion's retriever score beats
    its top-1 reference's by at least that much."""
    from ..errors import UserInputError

    try:
        data = json.loads(Path(path).read_text())
        records = data["records"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UserInputError(f"'{path}' is not a self-targets file written by `remogpt train self-targets` ({error}).") from None
    if min_margin is not None:
        records = [r for r in records if r["reference_score"] is None or r["score"] - r["reference_score"] >= min_margin]
    return [r for r in records if r["codes"]]


def self_target_items(records: list[dict], context=None) -> list:
    """Training items (language/data.py) of the records: one caption each, text-to-motion only, with references
    looked up as for the caption's own clip (that clip and its mirror left out)."""
    from ..retrieval.database import Exclude
    from .data import MotionTextItem

    items = [
        MotionTextItem(f"{r['name']}~self{i}", r["motion_id"], list(r["codes"]), [r["caption"]], tasks=dict(SELF_TARGET_TASKS))
        for i, r in enumerate(records)
    ]
    if context is not None and context.mode != "none" and items:
        captions = [r["caption"] for r in records]
        references = context.for_texts(captions, exclude=[Exclude(r["motion_id"], r["caption"]) for r in records])
        for item, refs in zip(items, references):
            item.text_context = [refs]
    return items
