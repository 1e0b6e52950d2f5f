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
- `smoothW`: PL-TMR's cosine minus W * the sample's joint jerk over the mean of its text's samples (a wrong code
  decodes as a jerk, and PL-TMR averages frames before it looks); `jerk`: the smoothest sample alone;
- `likelyW`: PL-TMR cosine / tau + W * the language model's mean log p(code | the sample's own prompt);
  `likelihood`: that alone (the model's confidence in its own sample);
- `evaluator`: the sample the evaluator itself places nearest the text. A diagnostic of how much better a choice
  among these samples could be, never a decoding rule (it optimises the measure that scores it).

Oracles that know the answer (diagnostics, never decoding rules): the sample closest to the text's ground-truth clip
by `truth` (PL-TMR's motion embeddings), `truthsecond` (the second judge's), `truthcodes` (bag-of-codes overlap with
the clip's tokens), `truthjoints` (mean joint-position distance, both resampled to 64 frames), `truthfeatures` (the
same for PL-TMR-normalised features) or `truthevaluator` (the evaluator's motion embeddings). If picking by closeness
to the ground truth does not lift R-Top1, no judge of the text alone can, and what `evaluator` finds is largely its
own noise.

`--matchers` also prints text->motion R@1 in batches of 32 of PL-TMR (and the second judge) and of the evaluator on
the split's real crops and their tokenizer reconstructions: how good each is as a judge of real motion.

    .venv/bin/python bench/rerank_judges.py --model MODEL_DIR --data DATA [--split test] [--samples 8] \
        [--rules first,pltmr,contrast0.5,novelty0.5,lm,lmctx,mix0.5,evaluator,truth,truthjoints] [--matchers] [--second-judge DIR]
"""

from __future__ import annotations

import argparse
import re
from functools import cached_property
from pathlib import Path

import numpy as np
from scipy.special import logsumexp


class Judged:
    """Stands in for the model in the t2m protocol: generates N samples per text once, returns the one a rule picks."""

    def __init__(self, model, evaluator, split, samples: int, second_judge=None):
        self.model, self.evaluator, self.samples, self.second_judge = model, evaluator, samples, second_judge
        self.tokens_of = dict(zip(split.texts, split.tokens))
        self.truth_of = {t: split.motions[o] for t, o in zip(split.texts, split.owner)}
        self.rule, self.cache = "pltmr", {}

    def __getattr__(self, name):  # reference rows and everything else: the model's own
        return getattr(self.model, name)

    def generate(self, texts, lengths=None, num_samples=1):
        key = tuple(texts)
        if key not in self.cache:
            self.cache[key] = Pool(self, list(texts))
        pool = self.cache[key]
        best = self._scores(pool).argmax(1)
        return [pool.features[i * self.samples + int(b)] for i, b in enumerate(best)]

    @property
    def tau(self) -> float:
        return self.model.retriever.config.temperature

    def _scores(self, s: "Pool"):
        rule, weight = re.fullmatch(r"([a-z]+)([\d.]*)", self.rule).groups()
        weight = float(weight or 0)
        if rule == "first":
            return -np.arange(self.samples)[None].repeat(len(s.texts), 0)
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
        if rule == "jerk":
            return -s["jerk"]
        if rule == "smooth":  # jerk relative to the text's samples' mean, so W is scale-free
            return s["cosine"] - weight * s["jerk"] / s["jerk"].mean(1, keepdims=True)
        if rule == "likely":
            return s["cosine"] / self.tau + weight * s["likelihood"]
        return s[rule]  # lm, lmctx, evaluator, the truth oracles

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

    def _lm_scores(self, texts, codes, motions, context: bool) -> np.ndarray:
        """log p(text | motion-to-text prompt with the sample's codes), summed over the caption's tokens."""
        from remogpt.language.prompts import build_prompt, first_instruction

        lm, n = self.model.lm, self.samples
        refs = self.model.context.for_motions([None] * len(codes), embeddings=motions) if context else [[]] * len(codes)
        prompts = [build_prompt(first_instruction("m2t", motion=lm.vocabulary.motion_string(c or [0])), r) for c, r in zip(codes, refs)]
        return self._log_probs(prompts, [texts[i // n] for i in range(len(codes))])

    def _log_probs(self, prompts, targets, mean: bool = False, batch: int = 64) -> np.ndarray:
        """The language model's log p(target | prompt), teacher-forced: summed over the target's tokens, or their mean."""
        import torch

        lm, out = self.model.lm, []
        lm.eval()
        with torch.no_grad():
            for start in range(0, len(prompts), batch):
                labels = lm.encode_targets(targets[start : start + batch])
                logits = lm.t5(**lm.encoder_inputs(prompts[start : start + batch]), decoder_input_ids=lm.t5._shift_right(labels)).logits
                picked = torch.log_softmax(logits.float(), -1).gather(-1, labels.clamp(min=0)[..., None])[..., 0]
                kept = labels != -100
                total = (picked * kept).sum(-1)
                out.append((total / kept.sum(-1) if mean else total).numpy())
        return np.concatenate(out)


class Pool:
    """One call's N samples per text and their judges' scores, each computed when a rule first asks for it."""

    def __init__(self, judged: Judged, texts: list[str]):
        self.judged, self.texts, self.n = judged, texts, judged.samples
        self.generated = judged.model.generate_motions(texts, None, num_samples=self.n)  # candidates is 1 here
        self.features = [g.features for g in self.generated]
        self.motions = judged.model.retriever.embed_motions(self.features)
        self.truth = [judged.truth_of[t] for t in texts]
        self.scores: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.scores:
            self.scores[name] = np.asarray(getattr(self, "_" + name)()).reshape(len(self.texts), self.n)
        return self.scores[name]

    def _per_text(self, queries: np.ndarray, motions: np.ndarray) -> np.ndarray:
        """Each text's query row against its own N motion rows."""
        return np.einsum("qd,qcd->qc", queries, motions.reshape(len(self.texts), self.n, -1))

    def _evaluator_motions(self, motions) -> np.ndarray:
        ev = self.judged.evaluator
        return ev.embed_motions([_pad(f, ev.config.unit_length, ev.config.dim_pose) for f in motions])

    @cached_property
    def evaluator_samples(self) -> np.ndarray:
        """The samples in the evaluator's motion space, (texts, N, d): shared by `evaluator` and `truthevaluator`."""
        return self._evaluator_motions(self.features).reshape(len(self.texts), self.n, -1)

    @cached_property
    def second_samples(self) -> np.ndarray:
        """The samples in the second judge's motion space: shared by `second` and `truthsecond`."""
        return self.judged.second_judge.embed_motions(self.features)

    def _cosine(self):
        return self._per_text(self.judged.model.retriever.embed_texts(self.texts), self.motions)

    def _distractors(self):
        return logsumexp(self.motions @ self.judged.model.database.text_embeddings.T / self.judged.tau, axis=-1)

    def _reference(self):
        return self._per_text(self.judged._reference_embeddings(self.generated[:: self.n]), self.motions)

    def _lm(self):
        return self.judged._lm_scores(self.texts, [g.tokens for g in self.generated], self.motions, context=False)

    def _lmctx(self):
        return self.judged._lm_scores(self.texts, [g.tokens for g in self.generated], self.motions, context=True)

    def _evaluator(self):
        ev = self.judged.evaluator
        text = ev.embed_texts([self.judged.tokens_of[t] for t in self.texts])
        return -np.linalg.norm(self.evaluator_samples - text[:, None], axis=-1)

    def _second(self):
        return self._per_text(self.judged.second_judge.embed_texts(self.texts), self.second_samples)

    def _likelihood(self):
        """Mean log p(code | the sample's own prompt), the caption and its context in it (without text guidance)."""
        from remogpt.language.prompts import build_prompt, first_instruction

        model, prompts = self.judged.model, []
        for g in self.generated:
            frames = model._reference_frames(g.context)
            task = "t2m_frames" if frames else "t2m"
            prompts.append(build_prompt(first_instruction(task, caption=g.text, frames=str(int(frames or 0))), g.context))
        return self.judged._log_probs(prompts, [model.lm.vocabulary.motion_string(g.tokens) for g in self.generated], mean=True)

    def _jerk(self):
        """Mean magnitude of the joints' third difference (per frame, metres): wrong codes decode as jerks."""
        return [np.linalg.norm(np.diff(g.joints, n=3, axis=0), axis=-1).mean() if len(g.joints) > 3 else 0.0 for g in self.generated]

    def _truth(self):
        return self._per_text(self.judged.model.retriever.embed_motions(self.truth), self.motions)

    def _truthsecond(self):
        return self._per_text(self.judged.second_judge.embed_motions(self.truth), self.second_samples)

    def _truthcodes(self):
        codes = self.judged.model.motion_tokenizer.encode(self.truth)
        return [_overlap(codes[i // self.n], g.tokens) for i, g in enumerate(self.generated)]

    def _truthjoints(self):
        return [-_joint_distance(self.truth[i // self.n], f) for i, f in enumerate(self.features)]

    def _truthfeatures(self):
        """Distance of the normalised features (the database's statistics), both resampled to 64 frames."""
        mean, std = self.judged.model.retriever.mean.numpy(), self.judged.model.retriever.std.numpy()
        truth = [(_resampled(m) - mean) / std for m in self.truth]
        return [-np.linalg.norm(truth[i // self.n] - (_resampled(f) - mean) / std, axis=-1).mean() for i, f in enumerate(self.features)]

    def _truthevaluator(self):
        truth = self._evaluator_motions(self.truth)
        return -np.linalg.norm(self.evaluator_samples - truth[:, None], axis=-1)


def _pad(f, unit, dim):
    return f if len(f) >= unit else np.concatenate([f.reshape(-1, dim), np.repeat(f.reshape(-1, dim)[-1:], unit - len(f), 0)])


def _resampled(frames_first: np.ndarray, frames: int = 64) -> np.ndarray:
    """The same motion at `frames` frames (nearest frame), so motions of different lengths compare frame by frame."""
    return frames_first[np.linspace(0, len(frames_first) - 1, frames).round().astype(int)]


def _joint_distance(a, b) -> float:
    """Mean joint-position distance (metres) of two motions, both resampled to 64 frames."""
    from remogpt.motion.features import features_to_joints

    return float(np.linalg.norm(_resampled(features_to_joints(a)) - _resampled(features_to_joints(b)), axis=-1).mean())


def _overlap(a, b) -> float:
    """Histogram intersection of two code sequences over their union (bag-of-codes Jaccard)."""
    size = max(max(a, default=0), max(b, default=0)) + 1
    ca, cb = np.bincount(a, minlength=size), np.bincount(b, minlength=size)
    return float(np.minimum(ca, cb).sum() / max(np.maximum(ca, cb).sum(), 1))


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
