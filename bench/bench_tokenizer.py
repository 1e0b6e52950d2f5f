"""Tokenizer throughput: training windows/s, and encode+decode motions/s batched vs one motion at a time.

    .venv/bin/python bench/bench_tokenizer.py                          # small preset, synthetic motions
    .venv/bin/python bench/bench_tokenizer.py --preset paper --device cuda
    .venv/bin/python bench/bench_tokenizer.py --tokenizer runs/tok --data DATASET   # a trained model, real motions
    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_tokenizer.py       # on a loaded shared CPU, one thread is faster

Training: the loss, backward pass and AdamW step of the training module on random 64-frame windows (the same code
Lightning runs each step, without its loop). Inference: `encode` then `decode` of whole motions (40-196 frames,
HumanML3D's range) with `batch_size` motions per forward pass, against `batch_size=1`. Prints the ratio and writes
bench/results/tokenizer.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch


def synthetic_motions(count: int, dim: int, seed: int = 0) -> list[np.ndarray]:
    """Smooth feature sequences of HumanML3D-like lengths (sums of slow sines), raw scale mean 0 std 1."""
    rng = np.random.default_rng(seed)
    motions = []
    for _ in range(count):
        t = np.arange(int(rng.integers(40, 197)))[:, None]
        freq = rng.uniform(0.02, 0.3, size=(1, dim))
        motions.append(np.sin(freq * t + rng.uniform(0, 6.3, size=(1, dim))).astype(np.float32))
    return motions


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench_training(module, device: torch.device, batch_size: int, window: int, steps: int) -> float:
    """Windows per second of full training steps (forward, loss, backward, optimiser)."""
    module.train()
    optimizer = torch.optim.AdamW(module.parameters(), lr=1e-4)
    dim = module.config.model.feature_dim
    batch = torch.randn(batch_size, window, dim, device=device)
    for step in range(steps + 2):  # two warm-up steps (k-means init on the first)
        if step == 2:
            sync(device)
            start = time.perf_counter()
        loss = module.losses(batch)["loss"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    sync(device)
    return steps * batch_size / (time.perf_counter() - start)


def bench_inference(model, motions: list[np.ndarray], batch_size: int, repeats: int) -> float:
    """Motions per second through encode + decode."""
    model.decode(model.encode(motions[:2], batch_size=batch_size), batch_size=batch_size)  # warm-up
    sync(model.device)
    start = time.perf_counter()
    for _ in range(repeats):
        model.decode(model.encode(motions, batch_size=batch_size), batch_size=batch_size)
    sync(model.device)
    return repeats * len(motions) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small", help="model/training preset when no --tokenizer is given")
    parser.add_argument("--tokenizer", help="a trained tokenizer directory (else a freshly initialised preset model)")
    parser.add_argument("--data", help="HumanML3D-layout folder: use its test motions instead of synthetic ones")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--motions", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--train-steps", type=int, default=5)
    parser.add_argument("--train-batch", type=int, help="training batch (default: the preset's)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "tokenizer.json"))
    args = parser.parse_args()

    from remogpt.io import save_json
    from remogpt.tokenizer import MotionTokenizer
    from remogpt.tokenizer.train import TokenizerModule, make_config

    device = torch.device(args.device)
    config = make_config(args.preset)
    if args.tokenizer:
        trained = MotionTokenizer.from_pretrained(args.tokenizer)
        config = make_config(args.preset, model=trained.config)
    dim = config.model.feature_dim
    if args.data:
        from remogpt.data.folder import HumanML3DFolder
        from remogpt.tokenizer.data import load_split

        motions = load_split(HumanML3DFolder(args.data), "test", min_frames=4)[: args.motions]
        mean, std = HumanML3DFolder(args.data).mean_std()
    else:
        motions = synthetic_motions(args.motions, dim)
        mean, std = np.zeros(dim, np.float32), np.ones(dim, np.float32)

    torch.manual_seed(0)
    module = TokenizerModule(config, mean, std).to(device)
    train_batch = args.train_batch or config.batch_size
    windows_per_s = bench_training(module, device, train_batch, config.window, args.train_steps)

    model = MotionTokenizer.from_pretrained(args.tokenizer, map_location=device) if args.tokenizer else module.model
    model.eval()
    batched = bench_inference(model, motions, args.batch_size, args.repeats)
    single = bench_inference(model, motions, 1, args.repeats)

    result = {
        "preset": config.preset,
        "tokenizer": args.tokenizer,
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "parameters_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 2),
        "train_batch": train_batch,
        "train_windows_per_s": round(windows_per_s, 1),
        "motions": len(motions),
        "mean_frames": round(float(np.mean([len(m) for m in motions])), 1),
        "encode_decode_batch": args.batch_size,
        "encode_decode_motions_per_s_batched": round(batched, 1),
        "encode_decode_motions_per_s_one_by_one": round(single, 1),
        "batched_over_one_by_one": round(batched / single, 2),
    }
    print(f"preset {config.preset} on {device} ({torch.get_num_threads()} threads), {result['parameters_m']}M parameters")
    print(f"training:        {windows_per_s:8.1f} windows/s (batch {train_batch} x {config.window} frames)")
    print(f"encode+decode:   {batched:8.1f} motions/s batched ({args.batch_size} per pass)")
    print(f"                 {single:8.1f} motions/s one at a time")
    print(f"ratio batched / one at a time: {batched / single:.2f}x")
    save_json(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
