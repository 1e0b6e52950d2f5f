"""The foot-contact clean-up (remogpt/motion/foot_contact.py): foot skating with and without it, and its cost.

    python bench/bench_foot_contact.py --data data/builtin [--model DIR] [--clips 200]

Rows: the dataset's own test clips, the motion tokenizer's reconstructions of them, and the model's motions for
their first captions (one sample each, the model's decoding), each decoded raw and cleaned. Foot skating is
synth.json's measure (mean horizontal toe speed while the toe is within 5 cm of the clip's floor, m/s, pooled).
The same seed draws the same codes for both columns, so the difference is the clean-up alone.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

ANKLES = (7, 8)  # the heel joints: not what synth.json measures, shown so the clean-up cannot hide a slide there


def pooled_skating(motions, fps: float, joints: tuple[int, int] | None = None) -> float:
    """Pooled skating of the toes (synth.json's measure) or of other joints (e.g. the ankles, 7 and 8)."""
    from remogpt.data.synth import quality
    from remogpt.motion.features import features_to_joints

    toes = quality.TOES
    quality.TOES = joints or toes
    try:
        total = np.sum([quality.skating(features_to_joints(f), fps) for f in motions], axis=0)
    finally:
        quality.TOES = toes
    return float(total[0] / max(total[1], 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", default=None)
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from remogpt.data.folder import HumanML3DFolder
    from remogpt.motion.foot_contact import plant_feet
    from remogpt.pipeline import ReMoGPT

    folder = HumanML3DFolder(args.data)
    model = ReMoGPT.from_pretrained(args.model)
    model.sampling.plant_feet = False  # raw decoding; the clean-up is applied here, to time it
    ids = folder.ids("test")[: args.clips]
    real = [folder.load_features(i) for i in ids]
    reconstructed = model.reconstruct(real)
    generated = [m.features for m in model.generate_motions([folder.load_captions(i)[0].text for i in ids], seed=args.seed)]

    print(f"{len(ids)} test clips of {args.data}, model {args.model or 'shipped'}\n")
    print("| motions | foot skating raw (m/s) | cleaned (m/s) | raw / real | cleaned / real | ankles raw / cleaned (m/s) | ms per clip |")
    print("|---|---|---|---|---|---|---|")
    reference = pooled_skating(real, folder.fps)
    for name, motions in (("real test clips", real), ("tokenizer reconstructions", reconstructed), ("model, one sample per caption", generated)):
        start = time.perf_counter()
        cleaned = [plant_feet(f) for f in motions]
        milliseconds = 1000 * (time.perf_counter() - start) / len(motions)
        raw, after = pooled_skating(motions, folder.fps), pooled_skating(cleaned, folder.fps)
        ankles = f"{pooled_skating(motions, folder.fps, ANKLES):.4f} / {pooled_skating(cleaned, folder.fps, ANKLES):.4f}"
        print(f"| {name} | {raw:.4f} | {after:.4f} | {raw / reference:.2f}x | {after / reference:.2f}x | {ankles} | {milliseconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
