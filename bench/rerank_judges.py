"""Which judge should choose among a model's sampled motions? One generation of N samples per text, then several
selection rules scored by the t2m protocol on the same crops (one replication, no MultiModality).

Rules (comma-separated `--rules`):
- `first`: the first sample (no reranking);
- `pltmr`: the sample PL-TMR scores closest to the text (the pipeline's `candidates` reranking);
- `contrastW`: PL-TMR's cosine minus W * tau * logsumexp of the sample's cosines to every database caption / tau
  (W = 1: the retriever's own p(text | motion) over the database's captions);
- `lm`, `lmctx`: the language model as its own judge, log p(text | motion-to-text prompt holding the sample's codes),
  without / with the references retrieved for the sample (noisy-channel reranking);
- `mixW`: PL-TMR cosine / tau + W * the `lmctx` score;
- `noveltyW`: PL-TMR's cosine minus W * the sample's cosine to the prompt's top-1 text->motion reference (the
  retriever ranked that reference first, so it also favours samples that copy it, mistakes included);
- `ensembleW`: PL-TMR's cosine + W * the cosine of a second, independently trained retriever (`--second-judge DIR`,
  e.g. a whole-body one from `remogpt train retriever --parts 1`): two judges' mistakes partly cancel;
- `evaluator`: the sample the evaluator itself places nearest the text. A diagnostic of how much better a choice
  among these samples could be, never a decoding rule (it optimises the measure that scores it).

`--matchers` also prints text->motion R@1 in batches of 32 of PL-TMR (and the second judge) and of the evaluator on
the split's real crops and their tokenizer reconstructions: how good each is as a judge of real motion.

    .venv/bin/python bench/rerank_judges.py --model MODEL_DIR --data DATA [--split test] [--samples 8] \
        [--rules first,pltmr,contrast0.5,novelty0.5,lm,lmctx,mix0.5,evaluator] [--matchers] [--second-judge DIR]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
from scipy.special import logsumexp


class Judged:
    """Stands in for the model in the t2m protocol: generates N samples per text once, returns the one a rule picks."""

    def __init__(self, model, evaluator, split, samples: int, second_judge=None):
        self.model, self.evaluator, self.samples, self.second_judge = model, evaluator, samples, second_judge
        self.tokens_of = dict(zip(split.texts, split.tokens))
        self.rule, self.cache = "pltmr", {}

    def __getattr__(self, name):  # reference rows and everything else: the model's own
        return getattr(self.model, name)

    def generate(self, texts, lengths=None, num_samples=1):
        key = tuple(texts)
        if key not in self.cache:
            self.cache[key] = self._sample(list(texts))
        features, scores = self.cache[key]
        best = self._scores(scores).argmax(1)
        return [features[i * self.samples + int(b)] for i, b in enumerate(best)]

    def _sample(self, texts):
        model, n = self.model, self.samples
        generated = model.generate_motions(texts, None, num_samples=n)  # model.sampling.candidates is 1 here
        features = [g.features for g in generated]
        motions = model.retriever.embed_motions(features)
        queries = model.retriever.embed_texts(texts)
        unit, dim = self.evaluator.config.unit_length, self.evaluator.config.dim_pose
        padded = [f if len(f) >= unit else np.concatenate([f.reshape(-1, dim), np.repeat(f.reshape(-1, dim)[-1:], unit - len(f), 0)]) for f in features]
        scores = {
            "cosine": np.einsum("qd,qcd->qc", queries, motions.reshape(len(texts), n, -1)),
            "distractors": logsumexp(motions @ model.database.text_embeddings.T / self.tau, axis=-1).reshape(len(texts), n),
            "reference": np.einsum("qd,qcd->qc", self._reference_embeddings(generated[::n]), motions.reshape(len(texts), n, -1)),
            "lm": self._lm_scores(texts, [g.tokens for g in generated], motions, context=False),
            "lmctx": self._lm_scores(texts, [g.tokens for g in generated], motions, context=True),
            "evaluator": -np.linalg.norm(
                self.evaluator.embed_motions(padded).reshape(len(texts), n, -1)
                - self.evaluator.embed_texts([self.tokens_of[t] for t in texts])[:, None], axis=-1),
        }  # fmt: skip
        if self.second_judge is not None:
            scores["second"] = np.einsum("qd,qcd->qc", self.second_judge.embed_texts(texts),
                                         self.second_judge.embed_motions(features).reshape(len(texts), n, -1))
        return features, scores

    @property
    def tau(self) -> float:
        return self.model.retriever.config.temperature

    def _scores(self, s):
        rule, weight = re.fullmatch(r"([a-z]+)([\d.]*)", self.rule).groups()
        weight = float(weight or 0)
        if rule == "first":
            return -np.arange(self.samples)[None].repeat(len(s["cosine"]), 0)
        if rule == "pltmr":
            return s["cosine"]
        if rule == "contrast":
            return s["cosine"] - weight * self.tau * s["distractors"]
        if rule == "novelty":
            return s["cosine"] - weight * s["reference"]
        if rule == "ensemble":
            return s["cosine"] + weight * s["second"]
        if rule == "mix":
            return s["cosine"] / self.tau + weight * s["lmctx"]
        return s[rule]  # lm, lmctx, evaluator

    def _reference_embeddings(self, generated) -> np.ndarray:
        """PL-TMR embedding of each prompt's top-1 text->motion reference (from the database; zeros without one)."""
        db = self.model.database
        row_of = {name: row for row, name in enumerate(db.motion_names)}
        out = np.zeros((len(generated), db.motion_embeddings.shape[1]), dtype=np.float32)
        for i, g in enumerate(generated):
            top = next((r for r in g.context if r.kind == "text->motion" and r.name in row_of), None)
            if top is not None:
                out[i] = db.motion_embeddings[row_of[top.name]]
        return out

    def _lm_scores(self, texts, codes, motions, context: bool, batch: int = 64) -> np.ndarray:
        """log p(text | motion-to-text prompt with the sample's codes), summed over the caption's tokens."""
        import torch

        from remogpt.language.prompts import build_prompt, first_instruction

        lm, n = self.model.lm, self.samples
        refs = self.model.context.for_motions([None] * len(codes), embeddings=motions) if context else [[]] * len(codes)
        prompts = [build_prompt(first_instruction("m2t", motion=lm.vocabulary.motion_string(c or [0])), r) for c, r in zip(codes, refs)]
        targets = [texts[i // n] for i in range(len(codes))]
        out = []
        lm.eval()
        with torch.no_grad():
            for start in range(0, len(prompts), batch):
                labels = lm.encode_targets(targets[start : start + batch])
                logits = lm.t5(**lm.encoder_inputs(prompts[start : start + batch]), decoder_input_ids=lm.t5._shift_right(labels)).logits
                picked = torch.log_softmax(logits.float(), -1).gather(-1, labels.clamp(min=0)[..., None])[..., 0]
                out.append((picked * (labels != -100)).sum(-1).numpy())
        return np.concatenate(out).reshape(len(texts), n)


def recall_at_1(similarity: np.ndarray, seeds: int = 5) -> float:
    """Text->motion R@1 in shuffled batches of 32 (the protocol's R-precision batches), mean over seeds."""
    hits = []
    for seed in range(seeds):
        n = len(similarity) // 32 * 32
        order = np.random.default_rng(seed).permutation(len(similarity))[:n]
        for b in range(0, n, 32):
            block = similarity[np.ix_(order[b : b + 32], order[b : b + 32])]
            hits.append((block.argmax(1) == np.arange(32)).mean())
    return float(np.mean(hits))


def matchers(model, evaluator, split, second=None) -> None:
    rng = np.random.default_rng(0)
    crops = split.crops(*split.crop(rng, evaluator.config.unit_length, evaluator.config.max_motion_length))
    captions = split.pick_captions(rng)
    texts = [split.texts[c] for c in captions]
    judges = {"PL-TMR": model.retriever, **({"second judge": second} if second is not None else {})}
    ev_text = evaluator.embed_texts([split.tokens[c] for c in captions])
    print("\n| motions | " + " | ".join(f"{name} R@1" for name in judges) + " | evaluator R@1 |\n|---|" + "---|" * (len(judges) + 1))
    for name, motions in (("real crops", crops), ("tokenizer reconstructions", model.reconstruct(crops))):
        cells = [recall_at_1(j.embed_texts(texts) @ j.embed_motions(motions).T) for j in judges.values()]
        cells.append(recall_at_1(-np.linalg.norm(ev_text[:, None] - evaluator.embed_motions(motions)[None], axis=-1)))
        print(f"| {name} | " + " | ".join(f"{c:.3f}" for c in cells) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--rules", default="first,pltmr,contrast0.5,novelty0.5,lm,lmctx,mix0.5,evaluator")
    parser.add_argument("--matchers", action="store_true")
    parser.add_argument("--second-judge", type=Path, default=None, help="a retriever directory, for the ensemble rule")
    args = parser.parse_args()

    from remogpt.evaluation.guo import load_evaluator
    from remogpt.evaluation.protocol import EvalSplit
    from remogpt.evaluation.t2m import T2MEvaluation, T2MSettings
    from remogpt.pipeline import ReMoGPT

    model = ReMoGPT.from_pretrained(args.model)
    model.sampling.candidates = 1  # the samples are drawn here and chosen by each rule
    evaluator = load_evaluator(args.model / "evaluator")
    split = EvalSplit.from_folder(args.data, args.split)
    second = None
    if args.second_judge:
        from remogpt.retrieval.model import PLTMR

        second = PLTMR.from_pretrained(args.second_judge)
    judged = Judged(model, evaluator, split, args.samples, second)
    print(f"model {args.model}, split {args.split}, {args.samples} samples per text, 1 replication\n")
    print("| rule | R-Top1↑ | R-Top3↑ | FID↓ | MM-Dist↓ |\n|---|---|---|---|---|")
    settings = T2MSettings(replications=1, mm_generations=0, reference_rows=False)
    for rule in args.rules.split(","):
        judged.rule = rule
        row = T2MEvaluation(evaluator, split, settings).run(judged)["rows"]["model"]
        print(f"| {rule} | " + " | ".join(f"{row[k]['mean']:.3f}" for k in ("r_top1", "r_top3", "fid", "mm_dist")) + " |", flush=True)
    if args.matchers:
        matchers(model, evaluator, split, second)


if __name__ == "__main__":
    main()
