"""Text-to-motion decoding settings side by side on one model: candidates (retriever reranking), temperature, top-k,
context guidance, with the retrieval-only row, one evaluator, the same crops and batches for every row.

A setting is written `c{candidates}[t{temperature}][k{top_k}][p{top_p}][g{guidance}][x{text guidance}][d{spread}][a{anchor}[s{similarity}]][m][r]`,
e.g. `c1`, `c8`, `c8t0.8`, `c8p0.9`, `c1g1.5`, `c8x2`, `c8x1d2`, `c8x1a2`, `c8m`; `a`: reference anchor weight
(SamplingSettings.reference_anchor), `s`: its minimum similarity (anchor_min_similarity); `d`: the candidates are sampled from that many
prompts holding the text's top-1 references, the next ones, ... (SamplingSettings.reference_spread); `m`: the model ends each motion itself instead of taking its top-1 reference's length
(SamplingSettings.reference_length); a trailing `r` decodes with raw feet (no foot clean-up,
motion/foot_contact.py), for every row of that setting.

    .venv/bin/python bench/decoding_sweep.py --model DIR --data data/builtin [--split test] [--replications 1]
        [--settings c1,c4,c8,c8t0.8,c1g0.5]
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path


def parse(setting: str) -> dict:
    match = re.fullmatch(r"c(\d+)(?:t([\d.]+))?(?:k(\d+))?(?:p([\d.]+))?(?:g([\d.]+))?(?:x([\d.]+))?(?:d(\d+))?(?:a([\d.]+)(?:s([\d.]+))?)?(m)?(r)?", setting)
    if match is None:
        raise SystemExit(f"setting '{setting}' is not c<N>[t<T>][k<K>][p<P>][g<S>][x<S>][d<N>][a<W>[s<S>]][m][r]")
    candidates, temperature, top_k, top_p, guidance, text_guidance, spread, anchor, similarity, own_length, raw = match.groups()
    return dict(
        candidates=int(candidates), temperature=float(temperature or 1.0), top_k=int(top_k) if top_k else None,
        top_p=float(top_p) if top_p else None, context_guidance=float(guidance or 0.0), plant_feet=raw is None,
        reference_length=own_length is None, text_guidance=float(text_guidance or 0.0), reference_spread=int(spread or 1),
        reference_anchor=float(anchor or 0.0), anchor_min_similarity=float(similarity or -1.0),
    )  # fmt: skip


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
        for key, value in parse(setting).items():
            setattr(model.sampling, key, value)
        feet = model.sampling.plant_feet
        start = time.perf_counter()
        settings = T2MSettings(replications=args.replications, mm_generations=0, reference_rows=feet not in printed_references)
        rows = T2MEvaluation(evaluator, split, settings).run(model)["rows"]
        seconds = time.perf_counter() - start
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
