"""Generation and captioning throughput of a ReMoGPT model: one batch of N prompts vs N single calls.

    .venv/bin/python bench/bench_generate.py                      # the shipped model
    .venv/bin/python bench/bench_generate.py --model DIR [--n 64] [--threads 2]

Text to motion: N prompts (the built-in dataset's caption style) generated in one `generate_motions` call vs N
calls of one prompt; motion to text: N motions captioned in one `caption_motions` call vs one at a time. Both
include retrieval (the model's setting), the KV-cached T5 decoding and the VQ-VAE decoding. Reports wall time,
generated tokens per second and the batched/single ratio. Writes bench/results/generate.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

PROMPTS = [
    "a person walks forward",
    "a person waves with the right hand",
    "someone jumps forward twice",
    "a person sits down and then stands up",
    "a man walks in a circle clockwise",
    "a person turns left and then runs",
    "someone kneels on the left knee and gets up",
    "a person punches with both arms while walking forward",
]


def main() -> None:
    import numpy as np
    import torch

    from remogpt.pipeline import ReMoGPT
    from remogpt.shipped import shipped_model_dir

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "generate.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    directory = args.model or shipped_model_dir()
    model = ReMoGPT.from_pretrained(directory)
    texts = [PROMPTS[i % len(PROMPTS)] for i in range(args.n)]
    model.generate_motions(texts[:2], seed=0)  # warm-up (lazy imports, first allocations)

    def timed(call):
        start = time.perf_counter()
        out = call()
        return time.perf_counter() - start, out

    batched_s, batched = timed(lambda: model.generate_motions(texts, seed=0))
    single_s, single = timed(lambda: [m for text in texts for m in model.generate_motions([text], seed=0)])
    tokens_batched = sum(len(m.tokens) for m in batched)
    tokens_single = sum(len(m.tokens) for m in single)

    motions = [m.features for m in batched]
    caption_batched_s, captions = timed(lambda: model.caption_motions(motions))
    caption_single_s, _ = timed(lambda: [c for m in motions for c in model.caption_motions([m])])

    result = {
        "model": str(directory),
        "n": args.n,
        "threads": args.threads,
        "t2m": {
            "batched_s": round(batched_s, 2),
            "single_s": round(single_s, 2),
            "speedup": round(single_s / batched_s, 1),
            "motion_tokens_per_s_batched": round(tokens_batched / batched_s, 1),
            "motion_tokens_per_s_single": round(tokens_single / single_s, 1),
            "mean_tokens": round(float(np.mean([len(m.tokens) for m in batched])), 1),
        },
        "m2t": {
            "batched_s": round(caption_batched_s, 2),
            "single_s": round(caption_single_s, 2),
            "speedup": round(caption_single_s / caption_batched_s, 1),
            "example": captions[0][0],
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    t2m, m2t = result["t2m"], result["m2t"]
    print(f"text->motion, {args.n} prompts, {args.threads} threads: one batch {t2m['batched_s']} s vs {args.n} single calls "
          f"{t2m['single_s']} s -> {t2m['speedup']}x; {t2m['motion_tokens_per_s_batched']} vs {t2m['motion_tokens_per_s_single']} motion tokens/s")
    print(f"motion->text, {args.n} motions: one batch {m2t['batched_s']} s vs single {m2t['single_s']} s -> {m2t['speedup']}x")


if __name__ == "__main__":
    main()
