"""The motion-to-text protocol (TM2T / MotionGPT): caption metrics and the evaluator's R-precision and MM-Dist.

1. The model captions every test motion (whole sample, raw features) in ONE call; captioning is done once.
2. BLEU@1-4, ROUGE-L, CIDEr-D and BERTScore against exactly 3 references per motion, in two variants that published
   work mixes up: the raw captions, and the processed token words of the HumanML3D token field (TM2T's).
3. R-Top1/2/3 and MM-Dist of the generated captions against their motions with the evaluator, over `replications`
   random crops and shuffled batches of 32; the real-caption row uses one random ground-truth caption per sample.
   Generated captions are tokenised into "word/POS" with a lexicon learned from the training captions
   (evaluation/tagger.py) since spaCy is not available offline.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

import numpy as np

from . import metrics
from .captions import BertScoreSettings, score_captions
from .guo import TextMotionEvaluator
from .protocol import EvalSplit
from .t2m import matching_metrics
from .tagger import CaptionTagger

REAL_ROW = "real captions"
RETRIEVAL_ROW = "retrieval only"  # the top-1 motion->text reference's caption, written as the prediction
REFERENCE_VARIANTS = ("raw", "tokens")


@dataclass
class M2TSettings:
    replications: int = 20
    batch_size: int = metrics.R_PRECISION_BATCH
    references: int = 3
    preprocess: str = "ptb"
    seed: int = 0
    reference_rows: bool = True  # the model's retrieval-only row when it offers one


class M2TEvaluation:
    def __init__(
        self,
        evaluator: TextMotionEvaluator,
        split: EvalSplit,
        tagger: CaptionTagger,
        settings: M2TSettings,
        bertscore: BertScoreSettings | None = None,
        progress: Callable[[str], None] | None = None,
        device: str | None = None,
    ):
        self.evaluator = evaluator
        self.split = split
        self.tagger = tagger
        self.settings = settings
        self.bertscore = bertscore
        self.device = device
        self.progress = progress or (lambda message: None)
        self.real_text_embeddings = evaluator.embed_texts(split.tokens)

    def caption_scores(self, predictions: list[str]) -> dict[str, dict]:
        """Caption metrics against both reference variants."""
        split = self.split
        variants = {
            "raw": [split.references(i) for i in range(len(split))],
            "tokens": [split.token_references(i) for i in range(len(split))],
        }
        return {
            name: score_captions(
                predictions,
                references,
                preprocessing=self.settings.preprocess,
                num_references=self.settings.references,
                bertscore=self.bertscore,
                device=self.device,
            )
            for name, references in variants.items()
        }

    def run(self, model: Any | None = None) -> dict[str, Any]:
        start = time.perf_counter()
        s, split, config = self.settings, self.split, self.evaluator.config
        timings = {"caption": 0.0, "caption_metrics": 0.0, "embed": 0.0}
        predictions = None
        generated_embeddings = None
        if model is not None:
            t = time.perf_counter()
            predictions = [str(p) for p in model.caption(split.motions)]
            timings["caption"] = time.perf_counter() - t
            if len(predictions) != len(split):
                raise RuntimeError(f"the model returned {len(predictions)} captions for {len(split)} motions.")
            generated_embeddings = self.evaluator.embed_texts([self.tagger(p) for p in predictions])
        retrieved = None
        if model is not None and s.reference_rows and hasattr(model, "retrieve_captions"):
            retrieved = model.retrieve_captions(split.motions)
        retrieved_embeddings = None if retrieved is None else self.evaluator.embed_texts([self.tagger(p) for p in retrieved])

        replications = []
        for index in range(s.replications):
            rng = np.random.default_rng([s.seed, index])
            captions = split.pick_captions(rng)
            t = time.perf_counter()
            motions = self.evaluator.embed_motions(split.crops(*split.crop(rng, config.unit_length, config.max_motion_length)))
            timings["embed"] += time.perf_counter() - t
            batching_seed = int(rng.integers(2**31))
            row = {REAL_ROW: matching_metrics(self.real_text_embeddings[captions], motions, np.random.default_rng(batching_seed), s.batch_size)}
            if retrieved_embeddings is not None:
                row[RETRIEVAL_ROW] = matching_metrics(retrieved_embeddings, motions, np.random.default_rng(batching_seed), s.batch_size)
            if generated_embeddings is not None:
                row["model"] = matching_metrics(generated_embeddings, motions, np.random.default_rng(batching_seed), s.batch_size)
            replications.append(row)
            self.progress(f"replication {index + 1}/{s.replications} done")

        rows: dict[str, dict[str, dict[str, float]]] = {}
        for name in replications[0]:
            rows[name] = {}
            for key in replications[0][name]:
                mean, half = metrics.confidence_interval([r[name][key] for r in replications])
                rows[name][key] = {"mean": mean, "ci": half}
        result: dict[str, Any] = {"protocol": "m2t", "rows": rows, "replications": replications}
        if predictions is not None:
            t = time.perf_counter()
            result["captions"] = self.caption_scores(predictions)
            if retrieved is not None:
                result["reference_captions"] = {RETRIEVAL_ROW: self.caption_scores([str(c) for c in retrieved])}
            timings["caption_metrics"] = time.perf_counter() - t
            result["predictions"] = [
                {"id": name, "prediction": p, "references": split.references(i)}
                for i, (name, p) in enumerate(zip(split.names, predictions))
            ]
        result["settings"] = asdict(s)
        result["effective"] = {
            "samples": len(split),
            "evaluated_per_batching": len(split) // s.batch_size * s.batch_size,
            "tagger_words": len(self.tagger),
        }
        result["timings_s"] = {**{k: round(v, 3) for k, v in timings.items()}, "total": round(time.perf_counter() - start, 3)}
        return result
