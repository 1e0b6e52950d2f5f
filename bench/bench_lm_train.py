"""Language-model training throughput against what the machine's matmul can do, in one run.

Prints (1) the machine's measured fp32 and bf16 matmul peak at a few square sizes, and (2) for each LM preset the
training steps of stage 2 (retrieved context in the prompt) in three recipes on the same examples:

- before: fp32, batches drawn at random (padded to the longest example), plain AdamW;
- fp32 bucketed: fp32, length-bucketed batches (language/data.py LengthBucketSampler), fused AdamW;
- after:  the same with bf16 autocast (the `small` preset's precision where the hardware has bf16 arithmetic).

The middle row separates the two gains: bucketing and the fused optimizer help everywhere, bf16 only on hardware
with bf16 arithmetic (AVX512-BF16/AMX or a recent GPU); elsewhere autocast emulates it and is slower than fp32.

For each: real (non-padding) tokens per second, executed FLOP/s (counted with torch's FlopCounterMode, forward and
backward, padding included), the share of executed tokens that were padding, and the before/after speed ratio.

    .venv/bin/python bench/bench_lm_train.py --data data/builtin [--model DIR] [--steps 20] [--threads 1]
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import torch


def matmul_peak(size: int, dtype: torch.dtype, seconds: float = 1.0) -> float:
    """FLOP/s of a square matmul (2 n^3 per product), best of repeated runs for about `seconds`."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b  # warm-up
    best, spent = 0.0, 0.0
    while spent < seconds:
        start = time.perf_counter()
        repeats = max(1, int(2e8 / size**3))
        for _ in range(repeats):
            a @ b
        elapsed = time.perf_counter() - start
        spent += elapsed
        best = max(best, 2 * size**3 * repeats / elapsed)
    return best


def examples(data: Path, model_dir: Path, limit: int):
    """Stage-2 training items (tokens + retrieved references) of the first `limit` training clips."""
    from remogpt.data.folder import HumanML3DFolder
    from remogpt.language.train import build_items
    from remogpt.pipeline import ReMoGPT

    model = ReMoGPT.from_pretrained(model_dir)
    folder = HumanML3DFolder(data)
    samples = folder.samples("train")[:limit]
    codes = model.motion_tokenizer.encode([s.features for s in samples])
    tokens = {s.name: [int(c) for c in code] for s, code in zip(samples, codes)}
    with torch.no_grad():
        items = build_items(samples, tokens, model.context)
    return items, model.lm.vocabulary, folder.fps, model.motion_tokenizer.config.downsample_factor


def batches(dataset, batch_size: int, steps: int, bucketed: bool, seed: int) -> list[list[int]]:
    from remogpt.language.data import LengthBucketSampler

    if bucketed:
        order = list(LengthBucketSampler(dataset, batch_size, drop_last=True, seed=seed))
    else:
        indices = list(range(len(dataset)))
        random.Random(seed).shuffle(indices)
        order = [indices[i : i + batch_size] for i in range(0, len(indices) - batch_size + 1, batch_size)]
    return order[:steps]


def run_recipe(preset: str, vocabulary, dataset, batch_list, *, bf16: bool, fused: bool) -> dict:
    from torch.utils.flop_counter import FlopCounterMode

    from remogpt.language.model import MotionLanguageModel

    torch.manual_seed(0)
    model = MotionLanguageModel.from_preset(preset, vocabulary)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=fused)

    def step(prompts, targets):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model.loss(prompts, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    pairs = [[dataset[i][:2] for i in batch] for batch in batch_list]  # (prompt, target) of each example
    step(*map(list, zip(*pairs[0])))  # warm-up (allocations, kernel choice)
    real = executed = 0
    flops = 0.0
    seconds = 0.0
    for batch in pairs:
        prompts, targets = map(list, zip(*batch))
        encoded = model.encode_prompts(prompts)
        labels = model.encode_targets(targets)
        real += int(encoded["attention_mask"].sum()) + int((labels != -100).sum())
        executed += encoded["input_ids"].numel() + labels.numel()
        start = time.perf_counter()
        step(prompts, targets)
        seconds += time.perf_counter() - start
    with FlopCounterMode(display=False) as counter:  # counted once per batch shape set, outside the timing
        for batch in pairs[: min(4, len(pairs))]:
            step(*map(list, zip(*batch)))
    flops = counter.get_total_flops() / min(4, len(pairs)) * len(pairs)
    return {
        "seconds": seconds,
        "steps_per_s": len(pairs) / seconds,
        "real_tokens_per_s": real / seconds,
        "padding_share": 1 - real / executed,
        "flops_per_s": flops / seconds,
        "parameters": sum(p.numel() for p in model.parameters()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", type=Path, default=None, help="Model directory for tokens and references (default: shipped).")
    parser.add_argument("--presets", default="small,medium")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clips", type=int, default=800, help="Training clips to draw examples from.")
    args = parser.parse_args()

    from remogpt.language.data import InstructionDataset
    from remogpt.shipped import model_dir_or_shipped

    torch.set_num_threads(args.threads)
    print(f"threads {args.threads}, batch {args.batch_size}, {args.steps} timed steps per recipe")
    print("\nmatmul peak (square n x n, GFLOP/s):")
    print("| n | fp32 | bf16 | bf16 / fp32 |\n|---|---|---|---|")
    peaks = {}
    for size in (128, 256, 512, 2048):
        fp32, bf16 = matmul_peak(size, torch.float32), matmul_peak(size, torch.bfloat16)
        peaks[size] = (fp32, bf16)
        print(f"| {size} | {fp32 / 1e9:.1f} | {bf16 / 1e9:.1f} | {bf16 / fp32:.2f} |")

    items, vocabulary, fps, factor = examples(args.data, model_dir_or_shipped(args.model), args.clips)
    dataset = InstructionDataset(items, vocabulary, fps=fps, downsample_factor=factor, seed=0)
    print("\nstage-2 training (prompts with retrieved context):")
    print("| preset | recipe | steps/s | real tokens/s | padding | executed GFLOP/s | share of matmul peak (n=2048, faster dtype) | speed-up |")
    print("|---|---|---|---|---|---|---|---|")
    best_peak = max(peaks[2048])  # the faster of fp32 and bf16 on this machine
    for preset in args.presets.split(","):
        before = run_recipe(preset, vocabulary, dataset, batches(dataset, args.batch_size, args.steps, False, 0), bf16=False, fused=False)
        bucketed = batches(dataset, args.batch_size, args.steps, True, 0)
        fp32 = run_recipe(preset, vocabulary, dataset, bucketed, bf16=False, fused=True)
        after = run_recipe(preset, vocabulary, dataset, bucketed, bf16=True, fused=True)
        rows = (("before: fp32, random batches", before), ("fp32, bucketed, fused", fp32), ("after: bf16, bucketed, fused", after))
        for name, r in rows:
            ratio = r["real_tokens_per_s"] / before["real_tokens_per_s"]
            print(
                f"| {preset} ({r['parameters'] / 1e6:.1f} M) | {name} | {r['steps_per_s']:.2f} | {r['real_tokens_per_s']:.0f} | "
                f"{100 * r['padding_share']:.0f} % | {r['flops_per_s'] / 1e9:.1f} | {100 * r['flops_per_s'] / best_peak:.0f} % | {ratio:.2f}x |"
            )
    print("\nspeed-up = real tokens per second against the 'before' recipe of the same preset.")


if __name__ == "__main__":
    main()
