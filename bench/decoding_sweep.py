"""Text-to-motion decoding settings side by side on one model: candidates (retriever reranking), temperature, top-k,
context guidance, with the retrieval-only row, one evaluator, the same crops and batches for every row.

A setting is written `c{candidates}[t{temperature}][k{top_k}][p{top_p}][g{guidance}][d{threshold}[e{rate}]][L][r]`, e.g. `c1`,
`c8`, `c8t0.8`, `c1g1.5`, `c8d0.1`; `d` edits the top-1 text->motion reference as a draft (DraftEditing: each of its
codes kept where the model gives it at least that probability), `e` is that edit's control: each draft code kept at
random with probability `rate`, whatever the model thinks (the draft rows print the share of draft codes kept); a
`L` gives each text its top-1
text->motion reference's length (SamplingSettings.reference_length); a trailing `r` decodes with raw feet (no foot clean-up, motion/foot_contact.py), for every row of that setting.

    .venv/bin/python bench/decoding_sweep.py --model DIR --data data/builtin [--split test] [--replications 1]
        [--settings c1,c4,c8,c8t0.8,c1g0.5]
"""

from __future__ import annotations

import argparse
import contextlib
import re
import time
from pathlib import Path


def parse(setting: str) -> dict:
    match = re.fullmatch(r"c(\d+)(?:t([\d.]+))?(?:k(\d+))?(?:p([\d.]+))?(?:g([\d.]+))?(?:d([\d.]+)(?:e([\d.]+))?)?(L)?(r)?", setting)
    if match is None:
        raise SystemExit(f"setting '{setting}' is not c<N>[t<T>][k<K>][p<P>][g<S>][d<P>[e<R>]][L][r]")
    candidates, temperature, top_k, top_p, guidance, draft, rate, length, raw = match.groups()
    return dict(
        candidates=int(candidates), temperature=float(temperature or 1.0), top_k=int(top_k) if top_k else None,
        top_p=float(top_p) if top_p else None, context_guidance=float(guidance or 0.0), draft_threshold=float(draft or 0.0), plant_feet=raw is None,
        random_keep_rate=float(rate) if rate else None, reference_length=length is not None,
    )  # fmt: skip


class RandomDraftEditing:
    """The control of draft editing: each draft code kept with a fixed probability, blind to the model."""

    def __init__(self, rate: float):
        self.rate = rate

    def __enter__(self):
        import torch

        from remogpt.language import model as lm_module

        self.original = lm_module.DraftEditing.keeps
        lm_module.DraftEditing.keeps = lambda _, probability: torch.rand_like(probability) < self.rate
        return self

    def __exit__(self, *_):
        from remogpt.language import model as lm_module

        lm_module.DraftEditing.keeps = self.original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--evaluator", type=Path, default=None, help="Default: the model's own evaluator/.")
    parser.add_argument("--split", default="test")
    parser.add_argument("--replications", type=int, default=1)
    parser.add_argument("--settings", default="c1,c4,c8")
    args = parser.parse_args()

    from remogpt.evaluation.guo import load_evaluator
    from remogpt.evaluation.protocol import EvalSplit
    from remogpt.evaluation.t2m import T2MEvaluation, T2MSettings
    from remogpt.pipeline import ReMoGPT

    model = ReMoGPT.from_pretrained(args.model)
    evaluator = load_evaluator(args.evaluator or args.model / "evaluator")
    split = EvalSplit.from_folder(args.data, args.split)
    print(f"model {args.model}, split {args.split}, {args.replications} replication(s), no MultiModality\n")
    print("| decoding | R-Top1↑ | R-Top3↑ | FID↓ | MM-Dist↓ | seconds |\n|---|---|---|---|---|---|")
    printed_real, printed_references = False, set()  # reference rows once per foot decoding
    for setting in args.settings.split(","):
        decoding = parse(setting)
        rate = decoding.pop("random_keep_rate")
        for key, value in decoding.items():
            setattr(model.sampling, key, value)
        feet = model.sampling.plant_feet
        start = time.perf_counter()
        settings = T2MSettings(replications=args.replications, mm_generations=0, reference_rows=feet not in printed_references)
        model.lm.draft_counts.update(kept=0, proposed=0)
        with RandomDraftEditing(rate) if rate is not None else contextlib.nullcontext():
            rows = T2MEvaluation(evaluator, split, settings).run(model)["rows"]
        seconds = time.perf_counter() - start
        if model.lm.draft_counts["proposed"]:
            kept = model.lm.draft_counts["kept"] / model.lm.draft_counts["proposed"]
            print(f"<!-- {setting}: {kept:.3f} of the proposed draft codes kept -->", flush=True)
        for name, row in rows.items():
            if name == "real motion" and printed_real:
                continue
            label = setting if name == "model" else name + ("" if feet or name == "real motion" else " (raw feet)")
            cells = [f"{row[k]['mean']:.3f}" for k in ("r_top1", "r_top3", "fid", "mm_dist")]
            print(f"| {label} | {' | '.join(cells)} | {seconds:.0f} |" if name == "model" else f"| {label} | {' | '.join(cells)} | – |", flush=True)
        printed_real = True
        printed_references.add(feet)


if __name__ == "__main__":
    main()
