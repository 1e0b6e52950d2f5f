"""What wrong codes cost: the reference rows with a share of every decoded code list made random (issue 15).

Tokenizer reconstruction and retrieval only, each code replaced by a uniformly random one with probability RATE,
through the model's decoder and the text-to-motion protocol (one replication). It tells how close to "random
codes" a language model's samples are, by their R-Top1 and FID.

    .venv/bin/python bench/probe_code_noise.py --model DIR --data data/builtin [--split test] [--rates 0 0.05 0.1 0.2 0.4]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--rates", type=float, nargs="+", default=[0.0, 0.05, 0.1, 0.2, 0.4])
    args = parser.parse_args()

    from remogpt.evaluation.guo import load_evaluator
    from remogpt.evaluation.protocol import EvalSplit
    from remogpt.evaluation.t2m import T2MEvaluation, T2MSettings
    from remogpt.pipeline import ReMoGPT

    model = ReMoGPT.from_pretrained(args.model)
    evaluator = load_evaluator(args.model / "evaluator")
    split = EvalSplit.from_folder(args.data, args.split)
    decoded, rng = model._decoded, np.random.default_rng(0)
    size = model.motion_tokenizer.config.codebook_size
    model.generate = lambda texts, lengths=None, num_samples=1: [np.zeros((40, 263), np.float32) for _ in texts]  # unused row
    print("| random codes | reconstruction R-Top1↑ | FID↓ | retrieval only R-Top1↑ | FID↓ |\n|---|---|---|---|---|")
    for rate in args.rates:
        model._decoded = lambda codes, rate=rate: decoded([[int(rng.integers(size)) if rng.random() < rate else int(c) for c in row] for row in codes])
        rows = T2MEvaluation(evaluator, split, T2MSettings(replications=1, mm_generations=0)).run(model)["rows"]
        cells = [f"{rows[name][key]['mean']:.3f}" for name in ("tokenizer reconstruction", "retrieval only") for key in ("r_top1", "fid")]
        print(f"| {rate:.2f} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
