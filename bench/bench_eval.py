"""Evaluation speed: batched vs one-at-a-time embedding, a full 20-replication t2m run, and a HumanML3D projection.

    .venv/bin/python bench/bench_eval.py --data DATA --evaluator EVALUATOR_DIR            # built-in test split
    .venv/bin/python bench/bench_eval.py --data DATA --evaluator DIR --replications 5 --threads 2

1. Embedding 256 test motions and their captions with the evaluator, batched (what the protocols do) vs one sample
   per call (what a per-sample loop does): samples per second and the ratio.
2. `remogpt evaluate t2m` as a library call: real-motion row + the ground-truth stand-in model (its generation costs
   nothing, so this is the evaluator's own cost), 20 replications, rare-motion variants on; wall time split into
   generation, embedding and metrics.
3. Projection to HumanML3D's test split (4 384 texts): per replication the protocol embeds 3 x N motions (reference
   pass, real row, model row) plus 100 x 30 for MultiModality; the measured seconds per embedded motion times that
   count, for the evaluator used and for an official-size evaluator (512/1024 units, random weights: same cost).
   A model's own generation time comes on top and is not included.
Writes bench/results/eval.json and eval.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from remogpt.evaluation.guo import EvaluatorConfig, TextMotionEvaluator, load_evaluator
from remogpt.evaluation.protocol import EvalSplit
from remogpt.evaluation.runner import run_t2m
from remogpt.evaluation.standin import write_stand_in
from remogpt.pipeline import load_evaluable

RESULTS = Path(__file__).resolve().parent / "results"
HUMANML3D_TEST_TEXTS = 4384


def per_second(count: int, seconds: float) -> float:
    return count / max(seconds, 1e-9)


def embedding_speed(evaluator: TextMotionEvaluator, split: EvalSplit, count: int = 256) -> dict:
    motions = split.motions[:count]
    tokens = split.tokens[:count]
    start = time.perf_counter()
    evaluator.embed_motions(motions)
    evaluator.embed_texts(tokens)
    batched = time.perf_counter() - start
    start = time.perf_counter()
    for motion, words in zip(motions, tokens):
        evaluator.embed_motions([motion])
        evaluator.embed_texts([words])
    single = time.perf_counter() - start
    return {
        "samples": len(motions),
        "batched_per_s": round(per_second(len(motions), batched), 1),
        "one_at_a_time_per_s": round(per_second(len(motions), single), 1),
        "speedup": round(single / batched, 1),
    }


def seconds_per_motion(evaluator: TextMotionEvaluator, split: EvalSplit, count: int = 512) -> float:
    motions = (split.motions * (count // len(split.motions) + 1))[:count]
    evaluator.embed_motions(motions[:32])  # warm-up
    start = time.perf_counter()
    evaluator.embed_motions(motions)
    return (time.perf_counter() - start) / len(motions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--evaluator", required=True, type=Path)
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    evaluator = load_evaluator(args.evaluator, map_location=args.device)
    split = EvalSplit.from_folder(args.data, "test")
    speed = embedding_speed(evaluator, split)
    print(f"embedding {speed['samples']} motions + captions: batched {speed['batched_per_s']}/s, "
          f"one at a time {speed['one_at_a_time_per_s']}/s -> {speed['speedup']}x")  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = write_stand_in(Path(tmp) / "ground_truth", "ground_truth", args.data)
        start = time.perf_counter()
        result, markdown = run_t2m(
            data=args.data, model=load_evaluable(model_dir), model_dir=model_dir, evaluator_dir=args.evaluator, replications=args.replications,
            device=args.device, name="ground truth (stand-in)",
        )  # fmt: skip
        wall = time.perf_counter() - start
    print(markdown)
    timings, counts = result["timings_s"], result["counts"]
    per_replication = counts["embedded"] / args.replications
    print(f"\n{args.replications} replications on {len(split)} test samples: {wall:.1f} s wall "
          f"(generate {timings['generate']:.1f}, embed {timings['embed']:.1f}, metrics {timings['metrics']:.1f}); "
          f"{per_replication:.0f} motions embedded per replication")  # fmt: skip

    mm = result["effective"]["mm_texts"] * result["settings"]["mm_generations"]
    hml_motions = (3 * HUMANML3D_TEST_TEXTS + 100 * 30) * args.replications
    own = timings["embed"] / counts["embedded"]
    official = seconds_per_motion(TextMotionEvaluator(EvaluatorConfig()).to(args.device), split)
    metrics_scale = HUMANML3D_TEST_TEXTS / len(split)
    projection = {
        "humanml3d_test_texts": HUMANML3D_TEST_TEXTS,
        "motions_embedded": hml_motions,
        "this_evaluator_s": round(own * hml_motions + timings["metrics"] * metrics_scale, 1),
        "official_size_evaluator_s": round(official * hml_motions + timings["metrics"] * metrics_scale, 1),
        "seconds_per_motion": {"this_evaluator": own, "official_size": official},
    }
    print(f"projection to HumanML3D ({HUMANML3D_TEST_TEXTS} texts, {args.replications} replications, generation excluded): "
          f"this evaluator {projection['this_evaluator_s']:.0f} s, official-size evaluator "
          f"{projection['official_size_evaluator_s']:.0f} s on {args.device} with {args.threads} thread(s)")  # fmt: skip

    record = {
        "machine": {"platform": platform.platform(), "device": args.device, "threads": args.threads, "torch": torch.__version__},
        "data": str(args.data.resolve()), "evaluator": str(args.evaluator.resolve()), "test_samples": len(split),
        "embedding": speed, "full_run": {"replications": args.replications, "wall_s": round(wall, 1), "timings_s": timings,
        "counts": counts, "mm_motions_per_replication": mm}, "projection": projection, "rows": result["rows"],
    }  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "eval.json").write_text(json.dumps(record, indent=2) + "\n")
    (RESULTS / "eval.md").write_text(
        f"# Evaluation speed\n\n{markdown}\n\n"
        f"- batched embedding: {speed['speedup']}x faster than one sample per call\n"
        f"- {args.replications} replications on {len(split)} test samples: {wall:.1f} s wall on {args.device}, "
        f"{args.threads} thread(s)\n"
        f"- projection to HumanML3D's {HUMANML3D_TEST_TEXTS} test texts: {projection['this_evaluator_s']:.0f} s with this "
        f"evaluator, {projection['official_size_evaluator_s']:.0f} s with an official-size one (generation excluded)\n"
    )
    print(f"wrote {RESULTS / 'eval.json'} and eval.md")


if __name__ == "__main__":
    main()
